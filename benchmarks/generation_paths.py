"""Each generator's two ways of making the same rows, for ``bench_generation.py`` and ``gpu_check.py``:

- **the authors' loop**: one image per call of the stock diffusers pipeline. IP-Adapter generators:
  ``set_ip_adapter_scale(lambda)`` then a call with ``ip_adapter_image=`` (the reference encoded again for every
  image) through diffusers' own attention processors, as IP-Adapter's ``generate`` does. The img2img baselines
  (Real Guidance, DA-Fusion): one ``StableDiffusionImg2ImgPipeline`` call per image with its strength, as the
  DA-Fusion code base does;
- **dalda's engine**: the generator's engine (``GenerationEngine`` / ``SDXLGenerationEngine`` / ``Img2ImgEngine``)
  over the same modules, each reference encoded once, rows generated a batch at a time.

Models are built as a run builds them (``dalda.configure`` applies each generator's defaults; ``models.profile``
``full-random`` gives the real architectures with random weights). DA-Fusion's engine is Real Guidance's
img2img engine with per-image strengths drawn from its ``generator.strengths`` (so a batch is split into one
call per distinct strength); its learned class token changes one word's embedding, not the cost, so no textual
inversion runs here. Both paths include PIL conversion, not the resize back to the source or PNG writing.

``channels_last`` and ``torch.compile`` are the engine's speed options (``generation.channels_last`` /
``generation.compile``); they are switched here on the built models, so one build serves every variant.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from PIL import Image

from dalda.config import DaldaConfig
from dalda.configure import build_config
from dalda.generators import generator_settings
from dalda.generators.img2img import Img2ImgEngine, steps_for
from dalda.generators.ip_adapter_engine import GenerationEngine
from dalda.generators.sdxl_engine import SDXLGenerationEngine
from dalda.models.sd import load_img2img_pipeline, load_sd_ip_adapter_pipeline, load_sd_ip_adapter_plus_pipeline
from dalda.models.sdxl import load_sdxl_ip_adapter_pipeline

Row = tuple[str, float, int, int]
"""(prompt, weight, seed, reference index); the weight is lambda for IP-Adapter generators, else the strength."""

IP_ADAPTER_LOADERS: dict[str, tuple[Callable[..., Any], type[GenerationEngine]]] = {
    "ip-adapter": (load_sd_ip_adapter_pipeline, GenerationEngine),
    "ip-adapter-plus": (load_sd_ip_adapter_plus_pipeline, GenerationEngine),
    "sdxl-ip-adapter": (load_sdxl_ip_adapter_pipeline, SDXLGenerationEngine),
}
IMG2IMG = ("real-guidance", "da-fusion")
GENERATOR_NAMES = (*IP_ADAPTER_LOADERS, *IMG2IMG)


def bench_config(
    name: str, profile: str, device: str, dtype: str, steps: int, resolution: int | None, scheduler: str | None = None
) -> DaldaConfig:
    """A run config for generator ``name``: its own defaults, with ``steps`` denoising steps, ``resolution`` px
    and ``scheduler`` where given (each generator's own ``generator.*`` settings)."""
    overrides = [
        f"generator.name={name}", f"models.profile={profile}", f"models.device={device}", f"models.dtype={dtype}",
        f"generator.steps={steps}",
    ] + ([f"generator.resolution={resolution}"] if resolution else [])  # fmt: skip
    if scheduler:
        overrides.append(f"generator.scheduler={scheduler}")
    return build_config(overrides=overrides, announce=False)


def bench_rows(name: str, config: DaldaConfig, count: int, per_reference: int, seed: int = 0) -> list[Row]:
    """``count`` rows, ``per_reference`` per reference image, weights as the generator's plan draws them."""
    rng = np.random.default_rng(seed)
    subjects = ["a cat on a sofa", "a dog in the snow", "a bird on a branch", "a flower in a vase"]
    rows = []
    for i in range(count):
        if name == "da-fusion":
            weight = float(rng.choice(config.generator.strengths))
        elif name in IMG2IMG:
            weight = float(config.generator.strength)
        else:
            weight = float(rng.uniform(0.1, 0.9))
        prompt = f"best quality, high quality, {subjects[i % len(subjects)]}, view {i}"
        rows.append((prompt, weight, i, i // per_reference))
    return rows


def references(count: int) -> list[Image.Image]:
    """Random pictures of a typical few-shot photo size (500 x 375)."""
    rng = np.random.default_rng(1)
    return [Image.fromarray(rng.integers(0, 255, (375, 500, 3), dtype=np.uint8)) for _ in range(count)]


@dataclass
class GenerationPaths:
    """One generator's authors' loop and engine over the same built models."""

    name: str
    engine: Any
    stock: Any
    """The stock diffusers pipeline the authors' loop calls (its modules are the engine's)."""
    settings: Any
    stock_processors: dict[str, Any] | None
    engine_processors: dict[str, Any] | None
    eager_unet: Any = None

    @property
    def device(self) -> torch.device:
        return resolve_device_of(self.stock)

    def _with_steps(self, steps: int) -> None:
        self.engine.settings = self.settings.model_copy(update={"steps": steps})

    def authors(self, rows: Sequence[Row], refs: Sequence[Image.Image], steps: int) -> int:
        """The authors' loop over ``rows``, one image per pipeline call; returns the number of images."""
        settings = self.settings
        size = settings.resolution
        if self.stock_processors is not None:
            self.stock.unet.set_attn_processor(dict(self.stock_processors))  # it empties the dict it is given
        try:
            for prompt, weight, seed, ref in rows:
                generator = torch.Generator("cpu").manual_seed(seed)
                image = refs[ref].convert("RGB").resize((size, size), Image.Resampling.BICUBIC)
                negative = settings.negative_prompt or None
                if self.name in IMG2IMG:
                    self.stock(prompt=prompt, negative_prompt=negative, image=image, strength=weight,
                               num_inference_steps=steps_for(weight, steps), guidance_scale=settings.guidance_scale,
                               generator=generator)  # fmt: skip
                else:
                    self.stock.set_ip_adapter_scale(weight)
                    self.stock(prompt=prompt, negative_prompt=negative, ip_adapter_image=image, height=size,
                               width=size, num_inference_steps=steps, guidance_scale=settings.guidance_scale,
                               generator=generator, **self.engine._call_options())  # fmt: skip
        finally:
            if self.engine_processors is not None:
                self.stock.unet.set_attn_processor(dict(self.engine_processors))
        return len(rows)

    def batched(self, rows: Sequence[Row], refs: Sequence[Image.Image], batch: int, steps: int) -> int:
        """dalda's engine over ``rows``, ``batch`` rows per call, each reference encoded once; returns the count."""
        self._with_steps(steps)
        try:
            encoded: dict[int, Any] = {}
            for first in range(0, len(rows), batch):
                chunk = rows[first : first + batch]
                new = sorted({row[3] for row in chunk} - encoded.keys())
                encoded.update(zip(new, self.engine.encode_references([refs[ref] for ref in new])))
                self.engine.generate([r[0] for r in chunk], [r[1] for r in chunk], [r[2] for r in chunk],
                                     [encoded[r[3]] for r in chunk])  # fmt: skip
        finally:
            self._with_steps(self.settings.steps)
        return len(rows)

    def channels_last(self, on: bool) -> None:
        """The UNet and VAE in channels_last memory format (``generation.channels_last``), or back."""
        memory_format = torch.channels_last if on else torch.contiguous_format
        pipe = self.engine.pipe
        unet = self.eager_unet if self.eager_unet is not None else pipe.unet
        unet.to(memory_format=memory_format)
        pipe.vae.to(memory_format=memory_format)

    def compile(self, on: bool, backend: str = "inductor") -> None:
        """The engine's UNet through ``torch.compile`` (``generation.compile``), or back to the eager one."""
        pipe = self.engine.pipe
        if on and self.eager_unet is None:
            self.eager_unet = pipe.unet
            pipe.unet = torch.compile(pipe.unet, backend=backend)
        elif not on and self.eager_unet is not None:
            pipe.unet, self.eager_unet = self.eager_unet, None
            torch._dynamo.reset()


def resolve_device_of(pipe: Any) -> torch.device:
    return next(pipe.unet.parameters()).device


def build_paths(name: str, config: DaldaConfig, img2img: Any = None) -> GenerationPaths:
    """Build generator ``name``'s models and both paths; ``img2img`` reuses an img2img pipeline already built
    (Real Guidance and DA-Fusion run the same models)."""
    settings = generator_settings(config)
    if name in IMG2IMG:
        pipe = img2img if img2img is not None else load_img2img_pipeline(config.models, settings.checkpoints())
        engine = Img2ImgEngine(pipe, settings, config.generation)
        return GenerationPaths(name, engine, pipe, settings, None, None)
    if name not in IP_ADAPTER_LOADERS:
        raise SystemExit(f"no benchmark paths for generator {name!r}; known: {', '.join(GENERATOR_NAMES)}")
    loader, engine_class = IP_ADAPTER_LOADERS[name]
    pipe = loader(config.models, settings.checkpoints())
    stock_processors = dict(pipe.unet.attn_processors)
    engine = engine_class(pipe, settings, config.generation)
    pipe.scheduler = type(engine.pipe.scheduler).from_config(engine.pipe.scheduler.config)
    return GenerationPaths(name, engine, pipe, settings, stock_processors, dict(pipe.unet.attn_processors))


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(device: torch.device, work: Callable[[], int]) -> tuple[float, float]:
    """(images per second, seconds) of ``work``, which returns how many images it made."""
    sync(device)
    start = time.perf_counter()
    made = work()
    sync(device)
    seconds = time.perf_counter() - start
    return made / seconds, seconds
