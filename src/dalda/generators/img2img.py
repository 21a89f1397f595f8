"""Batched SD img2img for the baselines (Real Guidance, DA-Fusion), an ``Engine`` of ``dalda.generators``.

diffusers' img2img takes one strength per call, and DA-Fusion draws a strength per image, so a batch is split
into one call per distinct strength. ``settings`` are the generator's resolved ones: its scheduler, steps, guidance,
resolution and negative prompt ("": none); of the ``generation`` section's options (``runtime``) it uses VAE
tiling. Every row still has its own seeded generator (on the CPU, as in the IP-Adapter engine), so an image
depends only on its row, not on how rows were grouped.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import torch
from PIL import Image

from dalda.config import GenerationConfig
from dalda.generators.settings import StableDiffusionSettings
from dalda.models.schedulers import build_scheduler


def steps_for(strength: float, steps: int) -> int:
    """img2img runs int(steps * strength) denoising steps; with few steps and a low strength that is zero, which
    diffusers cannot run, so the schedule is lengthened just enough for one step (never at the default 30)."""
    return max(steps, math.ceil(1.0 / strength))


class Img2ImgEngine:
    """SD img2img rows (prompt, strength, seed, start image), batched per distinct strength."""

    def __init__(
        self,
        pipe,
        settings: StableDiffusionSettings,
        runtime: GenerationConfig | None = None,
        resample: Image.Resampling = Image.Resampling.BILINEAR,
    ) -> None:
        """``resample``: the start image's resize (``train.protocol``'s choice, ``dalda.protocol``)."""
        self.resample = resample
        self.pipe = pipe
        self.settings = settings
        self.runtime = runtime or GenerationConfig()
        self.pipe.scheduler = build_scheduler(settings.scheduler, pipe.scheduler.config)
        self.pipe.set_progress_bar_config(disable=True)
        if self.runtime.vae_tiling:
            self.pipe.vae.enable_tiling()

    @property
    def tokenizer(self) -> Any:
        return self.pipe.tokenizer

    def encode_references(self, images: Sequence[Image.Image]) -> list[Image.Image]:
        """The start images, resized to the generation resolution as the DA-Fusion code base does."""
        size = self.settings.resolution
        return [image.convert("RGB").resize((size, size), self.resample) for image in images]

    @torch.inference_mode()
    def generate(
        self,
        prompts: Sequence[str],
        strengths: Sequence[float],
        seeds: Sequence[int],
        references: Sequence[Image.Image],
    ) -> list[Image.Image]:
        """One image per row; rows sharing a strength go through one pipeline call."""
        if not (len(prompts) == len(strengths) == len(seeds) == len(references)):
            raise ValueError("img2img generate needs one strength, seed and start image per prompt")
        groups: dict[float, list[int]] = defaultdict(list)
        for index, strength in enumerate(strengths):
            groups[float(strength)].append(index)
        images: list[Image.Image | None] = [None] * len(prompts)
        negative = self.settings.negative_prompt
        for strength, indices in groups.items():
            result = self.pipe(
                prompt=[prompts[i] for i in indices],
                negative_prompt=[negative] * len(indices) if negative else None,
                image=[references[i] for i in indices],
                strength=strength,
                num_inference_steps=steps_for(strength, self.settings.steps),
                guidance_scale=self.settings.guidance_scale,
                generator=[torch.Generator("cpu").manual_seed(int(seeds[i])) for i in indices],
            )
            for index, image in zip(indices, result.images):
                images[index] = image
        return images  # type: ignore[return-value]
