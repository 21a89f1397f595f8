"""GPU-hours and disk of one run, from the forward FLOPs of its models (``flops.json``, see ``counting.py``).

Work counted, each as FLOPs then divided by a GPU's throughput (``devices.py``):

- generation: one UNet step per denoising step (× 2 when guidance is on, since classifier-free guidance runs the
  conditional and unconditional halves), × the steps an image runs (img2img runs ``steps × strength``), plus the
  IP-Adapter image encoder once per image and one VAE decode per image;
- DA-Fusion's textual inversion: a UNet forward and backward (3× a forward) per optimisation step and image, per
  class;
- each classifier: its backbone's forward per draw (3× with ``finetune_backbone``, plus the per-epoch evaluation
  draws under ``protocol: authors``), or once per image and cached view when features are cached.

What is left out is said in the estimate's assumptions; text encoders, schedulers and image I/O are small beside
the UNet. Disk counts the generated PNGs only.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from statistics import mean

import numpy as np

from dalda.config import DaldaConfig
from dalda.costs.counting import LATENT_FACTOR
from dalda.costs.devices import DEFAULT_GPU, throughput
from dalda.generators import generator_settings
from dalda.generators.settings import (
    Img2ImgSettings,
    IPAdapterSettings,
    SDXLIPAdapterSettings,
    StableDiffusionSettings,
    TextualInversionSettings,
)

BYTES_PER_PIXEL_PNG = 2.0
"""A generous size of a generated PNG per pixel (photographic content compresses to about 1.5)."""
BACKWARD_FACTOR = 3
"""A forward and backward pass cost about three forwards (the backward computes two products per forward one)."""


@cache
def flop_table() -> dict:
    """The packaged counts written by ``benchmarks/count_flops.py``."""
    return json.loads(resources.files("dalda.costs").joinpath("flops.json").read_text())


def fitted(counts: dict[str, int], resolution: int) -> float:
    """FLOPs at ``resolution`` from counts at other sizes: a + b·N + c·N² in the latent pixel count N (exact for
    convolutions and projections, which grow with N, and self-attention, which grows with N²)."""
    sizes = np.array([(int(size) / LATENT_FACTOR) ** 2 for size in counts], dtype=np.float64)
    design = np.stack([np.ones_like(sizes), sizes, sizes**2], axis=1)
    coefficients, *_ = np.linalg.lstsq(design, np.array(list(counts.values()), dtype=np.float64), rcond=None)
    tokens = (resolution / LATENT_FACTOR) ** 2
    return float(coefficients @ np.array([1.0, tokens, tokens**2]))


def unet_family(settings: StableDiffusionSettings) -> str:
    return "sdxl" if isinstance(settings, SDXLIPAdapterSettings) else "sd"


@dataclass
class Estimate:
    """FLOPs per part of the run, what they take on one GPU, the disk the images need, and what was assumed."""

    flops: dict[str, float]
    gpu: str
    flops_per_second: float
    disk_bytes: int
    images: int
    assumptions: list[str] = field(default_factory=list)

    @property
    def gpu_hours(self) -> float:
        return sum(self.flops.values()) / self.flops_per_second / 3600

    def hours(self, part: str) -> float:
        return self.flops[part] / self.flops_per_second / 3600


def generation_flops(config: DaldaConfig, images: int, classes: int, assumptions: list[str]) -> dict[str, float]:
    """The generator's FLOPs for ``images`` images (and its per-class textual inversion)."""
    settings = generator_settings(config)
    name = config.generator.name
    if not isinstance(settings, StableDiffusionSettings):
        assumptions.append(f"generator {name} has no cost model (not a Stable Diffusion generator): not counted")
        return {}
    family = flop_table()["families"][unet_family(settings)]
    strength = 1.0
    if isinstance(settings, Img2ImgSettings):
        strengths = getattr(settings, "strengths", None) or [getattr(settings, "strength", 1.0)]
        strength = mean(strengths)
    guided = settings.guidance_scale > 1.0
    steps = settings.steps * strength
    step = fitted(family["unet_step"], settings.resolution)
    parts = {"generation": images * steps * step * (2 if guided else 1)}
    parts["generation"] += images * fitted(family["vae_decode"], settings.resolution)
    text = f"{name}: {settings.resolution} px, {steps:g} UNet steps per image of {step / 1e9:.0f} GFLOP"
    text += ", ×2 for guidance" if guided else ", no guidance"
    if isinstance(settings, IPAdapterSettings):
        parts["generation"] += images * flop_table()["image_encoder"]
        text += ", one image-encoder pass per image"
    assumptions.append(text + ", one VAE decode per image (img2img's VAE encode not counted)")
    if isinstance(settings, TextualInversionSettings):
        inversion = fitted(family["unet_step"], settings.ti_resolution)
        parts["textual inversion"] = classes * settings.ti_steps * settings.ti_batch_size * BACKWARD_FACTOR * inversion
        assumptions.append(f"textual inversion: {settings.ti_steps} steps × {settings.ti_batch_size} images per "
                           f"class at {settings.ti_resolution} px, forward and backward (×{BACKWARD_FACTOR})")
    return parts


def training_flops(config: DaldaConfig, train_images: int, assumptions: list[str]) -> dict[str, float]:
    """Each classifier's backbone FLOPs over one fit."""
    train = config.train
    probes = flop_table()["probes"]
    parts = {}
    per_draw = train.protocol == "authors" or train.finetune_backbone or not train.cache_features
    draws = train.epochs * train.iterations_per_epoch * train.batch_size
    for name in train.classifiers:
        if name not in probes:
            assumptions.append(f"classifier {name} has no FLOP count: not counted")
            continue
        forward = probes[name]["flops"] * (train.image_size / probes[name]["image_size"]) ** 2
        if per_draw:
            passes = draws * (BACKWARD_FACTOR if train.finetune_backbone else 1)
            passes += train.epochs * train.eval_draws if train.protocol == "authors" else 0
        else:
            passes = train_images * (1 + train.augmented_views)
        parts[f"classifier {name}"] = passes * forward
    if per_draw:
        assumptions.append(f"classifiers: backbone run on each of {draws:,} draws per fit"
                           + (", forward and backward" if train.finetune_backbone else "")
                           + (f", plus {train.epochs} × {train.eval_draws} evaluation draws" if train.protocol
                              == "authors" else ""))
    else:
        assumptions.append(f"classifiers: features cached, one backbone pass per training image and view "
                           f"({train_images:,} images; the test set's pass not counted)")
    return parts


def estimate(config: DaldaConfig, classes: int, stages: Collection[str], gpu: str = DEFAULT_GPU) -> Estimate:
    """The cost of running ``stages`` of ``config`` (``dalda.pipeline.stages_for``) on a dataset of ``classes``
    classes (``data.shots`` real images each)."""
    real = classes * config.data.shots
    images = real * config.plan.images_per_real if "generate" in stages else 0
    assumptions = ["the published models' sizes, whatever models.profile", f"{images:,} synthetic images ({classes} classes × {config.data.shots} shots × "
                   f"{config.plan.images_per_real})"]
    flops = generation_flops(config, images, classes, assumptions) if images else {}
    if "train" in stages:
        flops |= training_flops(config, real + images, assumptions)
    device = throughput(gpu)
    assumptions.append(f"{gpu}: {device.peak_tflops:g} TFLOP/s peak dense fp16/bf16, {device.source}; FLOPs of "
                       "matmuls, convolutions and attention only")
    settings = generator_settings(config)
    resolution = settings.resolution if isinstance(settings, StableDiffusionSettings) else 512
    disk = int(images * resolution**2 * BYTES_PER_PIXEL_PNG)
    assumptions.append(f"disk: {BYTES_PER_PIXEL_PNG:g} bytes per pixel of each {resolution} px PNG")
    return Estimate(flops, gpu, device.flops_per_second, disk, images, assumptions)


def format_estimate(result: Estimate) -> list[str]:
    """The estimate as lines for a terminal: the total, each part, then the assumptions."""
    lines = [f"about {result.gpu_hours:.3g} GPU-hours on one {result.gpu}, {result.disk_bytes / 1e9:.3g} GB of images"]
    lines += [f"  {part}: {result.hours(part):.3g} GPU-hours ({value / 1e15:.3g} PFLOP)"
              for part, value in result.flops.items()]
    lines += [f"  assumes {text}" for text in result.assumptions]
    return lines
