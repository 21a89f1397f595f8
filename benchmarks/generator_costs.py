"""Per-generator cost: seconds per denoising step, per reference encoding and per decode, and the size of every
model, for the IP-Adapter generators side by side (``bench_generation.py --generator NAME ...``).

Each generator is built the way a run builds it (``dalda.configure`` applies its defaults, so SDXL runs at its
1024 px unless ``--resolution`` is given; ``Generator.build`` loads the models), and its engine makes
``--batch-size`` images once. The time inside each model is taken from the models themselves (forward hooks
on the UNet, the text encoders and the image encoder; a wrapper around the VAE's ``decode``), so s/step is
the UNet's own time per denoising step (one call on a batch doubled for classifier-free guidance), not a
difference of two runs. There is no warm-up call: on a CPU the first call costs the same as later ones
within noise, on a GPU use more steps (the first step then weighs little).

On CUDA the peak of allocated GPU memory (weights and activations) is reported too. Random weights are
created directly in the run's ``--dtype`` (so a bfloat16 CPU run of SDXL never holds float32 copies).
Parameter counts are exact (counted on the built models); "fp16 GB" is 2 bytes per parameter, the weight
memory of a float16 run before activations. Generators are built one after another and freed in between,
so peak memory is that of the largest one.
"""

from __future__ import annotations

import gc
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from dalda.configure import build_config
from dalda.generators import GENERATORS, generator_settings
from dalda.models.device import resolve_device, resolve_dtype

TABLE_TITLE = "## Per-generator cost"
HEADER = (
    "| date | hardware | profile | dtype | generator | px | steps | batch | UNet | text enc. | VAE | image enc. "
    "| adapter | fp16 GB | encode s | s/step | decode s | s/image | GPU peak GB |\n"
    "|------|----------|---------|-------|-----------|----|-------|-------|------|-----------|-----|------------"
    "|---------|---------|----------|--------|----------|---------|-------------|\n"
)


@dataclass
class Clock:
    """Seconds spent inside each timed model, accumulated over calls."""

    device: torch.device
    seconds: dict[str, float] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    _started: dict[str, float] = field(default_factory=dict)

    def _sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def start(self, name: str) -> None:
        self._sync()
        self._started[name] = time.perf_counter()

    def stop(self, name: str) -> None:
        self._sync()
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - self._started.pop(name)
        self.calls[name] = self.calls.get(name, 0) + 1

    def watch(self, module: torch.nn.Module, name: str) -> None:
        module.register_forward_pre_hook(lambda *_: self.start(name))
        module.register_forward_hook(lambda *_: self.stop(name))

    def wrap(self, function: Callable[..., Any], name: str) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            self.start(name)
            try:
                return function(*args, **kwargs)
            finally:
                self.stop(name)

        return timed


def _count(module: torch.nn.Module | None) -> int:
    return 0 if module is None else sum(p.numel() for p in module.parameters())


def parameter_counts(pipe: Any) -> dict[str, int]:
    """Parameters per part; the IP-Adapter (image projection + every layer's to_k_ip/to_v_ip) apart from the UNet."""
    unet = pipe.unet
    adapter = _count(unet.encoder_hid_proj) + sum(
        _count(processor) for processor in unet.attn_processors.values() if isinstance(processor, torch.nn.Module)
    )
    text = _count(pipe.text_encoder) + _count(getattr(pipe, "text_encoder_2", None))
    return {
        "unet": _count(unet) - adapter,
        "text": text,
        "vae": _count(pipe.vae),
        "image": _count(pipe.image_encoder),
        "adapter": adapter,
    }


def measure(name: str, profile: str, device: str, dtype: str, steps: int, batch: int, resolution: int | None) -> dict:
    """Build one generator's engine and time one batch of ``batch`` images; see the module docstring."""
    overrides = [
        f"generator.name={name}", f"models.profile={profile}", f"models.device={device}", f"models.dtype={dtype}",
        f"generator.steps={steps}", f"generation.batch_size={batch}",
    ] + ([f"generator.resolution={resolution}"] if resolution else [])  # fmt: skip
    config = build_config(overrides=overrides)
    started = time.perf_counter()
    previous = torch.get_default_dtype()
    # Random weights are created in the run's dtype: building SDXL in float32 first would need 16 GB.
    torch.set_default_dtype(resolve_dtype(config.models, resolve_device(config.models)))
    try:
        engine = GENERATORS.get(name).build(config, None, config.models)
    finally:
        torch.set_default_dtype(previous)
    built = time.perf_counter() - started
    pipe = engine.pipe
    clock = Clock(resolve_device(config.models))
    if clock.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(clock.device)
    clock.watch(pipe.unet, "unet")
    for part in ("text_encoder", "text_encoder_2"):
        if getattr(pipe, part, None) is not None:
            clock.watch(getattr(pipe, part), "text")
    clock.watch(pipe.image_encoder, "image")
    pipe.vae.decode = clock.wrap(pipe.vae.decode, "decode")

    rng = np.random.default_rng(0)
    references = [Image.fromarray(rng.integers(0, 255, (375, 500, 3), dtype=np.uint8)) for _ in range(batch)]
    prompts = [f"best quality, high quality, a photo of a bird, view {i}" for i in range(batch)]
    clock.start("encode")
    embeds = engine.encode_references(references)
    clock.stop("encode")
    clock.start("image_total")
    engine.generate(prompts, [0.5] * batch, list(range(batch)), embeds)
    clock.stop("image_total")

    counts = parameter_counts(pipe)
    result = {
        "generator": name,
        "profile": profile,
        "dtype": str(resolve_dtype(config.models, clock.device)).removeprefix("torch."),
        "px": generator_settings(config).resolution,
        "steps": steps,
        "batch": batch,
        "counts": counts,
        "fp16_gb": 2 * sum(counts.values()) / 1e9,
        "build_s": built,
        "encode_s": clock.seconds["encode"],
        "step_s": clock.seconds["unet"] / steps,
        "decode_s": clock.seconds["decode"],
        "text_s": clock.seconds.get("text", 0.0),
        "image_s": clock.seconds["image_total"] / batch,
        "peak_gb": torch.cuda.max_memory_allocated(clock.device) / 1e9 if clock.device.type == "cuda" else None,
    }
    del engine, pipe
    gc.collect()
    return result


def _millions(count: int) -> str:
    return f"{count / 1e6:,.0f} M"


def describe(result: dict) -> str:
    counts = result["counts"]
    return (
        f"{result['generator']:>16}: {result['px']} px, {result['steps']} step(s), batch {result['batch']}: "
        f"{result['step_s']:.2f} s/step, encode {result['encode_s']:.2f} s, decode {result['decode_s']:.2f} s, "
        f"text {result['text_s']:.2f} s, {result['image_s']:.2f} s/image (built in {result['build_s']:.0f} s); "
        f"parameters UNet {_millions(counts['unet'])}, text {_millions(counts['text'])}, "
        f"VAE {_millions(counts['vae'])}, "
        f"image encoder {_millions(counts['image'])}, adapter {_millions(counts['adapter'])}; "
        f"fp16 weights {result['fp16_gb']:.2f} GB"
        + (f"; GPU peak {result['peak_gb']:.2f} GB" if result["peak_gb"] is not None else "")
    )


def hardware(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    threads = torch.get_num_threads()
    return f"CPU {platform.machine()}, {threads} thread{'s' if threads > 1 else ''}"


def table_row(result: dict, where: str) -> str:
    counts = result["counts"]
    return (
        f"| {date.today()} | {where} | {result['profile']} | {result['dtype']} | {result['generator']} | "
        f"{result['px']} | {result['steps']} ddim | {result['batch']} | {_millions(counts['unet'])} | "
        f"{_millions(counts['text'])} | {_millions(counts['vae'])} | {_millions(counts['image'])} | "
        f"{_millions(counts['adapter'])} | {result['fp16_gb']:.2f} | {result['encode_s']:.2f} | "
        f"{result['step_s']:.2f} | {result['decode_s']:.2f} | {result['image_s']:.2f} | "
        f"{'-' if result['peak_gb'] is None else format(result['peak_gb'], '.2f')} |\n"
    )


def record(path: Path, rows: list[str]) -> None:
    """Append rows to the per-generator table of ``path`` (a section of its own, created before ``## Results``
    the first time, so the authors-vs-engine rows keep their table last)."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    lines = text.splitlines(keepends=True)
    if TABLE_TITLE + "\n" not in lines:
        section = [TABLE_TITLE + "\n", "\n", *HEADER.splitlines(keepends=True)]
        at = lines.index("## Results\n") if "## Results\n" in lines else len(lines)
        lines[at:at] = [*section, "\n"]
    at = lines.index(TABLE_TITLE + "\n") + 1
    while at < len(lines) and not lines[at].startswith("|"):
        at += 1
    while at < len(lines) and lines[at].startswith("|"):
        at += 1
    lines[at:at] = rows
    path.write_text("".join(lines), encoding="utf-8")


def compare(args: Any) -> None:
    """``--generator`` mode of ``bench_generation.py``: each named generator measured, printed and (``--record``)
    recorded as soon as it is done, so a long run keeps the rows it finished."""
    where = hardware(resolve_device(build_config(overrides=[f"models.device={args.device}"]).models))
    for name in args.generator:
        result = measure(
            name, args.profile, args.device, args.dtype, args.steps, args.batch_size, args.resolution_given
        )
        print(describe(result), flush=True)
        if args.record:
            record(args.record, [table_row(result, where)])
            print(f"recorded in {args.record}", flush=True)
