"""Cost per image of the alignment scorers and the evaluation metrics, at full size with random weights.

Each entry runs in its own Python process (so its peak memory is its own): the model is built through dalda's
model kit with ``models.profile=full-random`` (the published architectures, random weights, no download), one
warm-up batch is run, then ``--repeats`` timed batches of ``--batch`` random 500 x 375 pictures; the best batch
is reported as seconds per image. Memory: the process's peak resident set size (CPU) or peak CUDA allocation.
FID and KID themselves (after the features) are timed on random 2048-d feature sets of ``--set-size`` images.

    python benchmarks/bench_scorers_metrics.py                                  # CPU, prints a table
    python benchmarks/bench_scorers_metrics.py --record benchmarks/results/scorers_metrics.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
from PIL import Image

from dalda.io import write_text_atomic

ENTRIES = {
    "scorer clip-softmax / clip-cosine (CLIP ViT-B/16)": "clip",
    "scorer siglip (SigLIP base-patch16-224)": "siglip",
    "scorer vqa (BLIP-VQA base, 384 px)": "vqa",
    "metric clip_i / clip_i_real (CLIP ViT-B/16 embedding)": "clip_embed",
    "metric dino / dino_real (DINOv2-small, 224 px)": "dino",
    "metric lpips (AlexNet, 256 px, per pair)": "lpips",
    "fid / kid features (Inception-v3, 299 px)": "inception",
    "fid (2048-d, 500 vs 500 images)": "fid_math",
    "kid (2048-d, 500 vs 500 images, 100 subsets of 100)": "kid_math",
}
CLASSES = ["cat", "dog", "bird", "flower", "car", "plane", "tree", "house", "boat", "horse"]


def _images(count: int) -> list[Image.Image]:
    rng = np.random.default_rng(0)
    return [Image.fromarray(rng.integers(0, 255, (375, 500, 3), dtype=np.uint8)) for _ in range(count)]


def _work(kind: str, batch: int, set_size: int, device: str) -> tuple[Callable[[], object], int]:
    """A callable doing one batch of work, and how many images (or sets) it covers."""
    from dalda.config import ModelsConfig

    models = ModelsConfig(profile="full-random", device=device)
    images = _images(batch)
    labels = [i % len(CLASSES) for i in range(batch)]
    if kind in ("clip", "siglip", "vqa"):
        from dalda.scorers import SCORERS

        name = {"clip": "softmax", "siglip": "siglip", "vqa": "vqa"}[kind]
        scorer = SCORERS.get(name)
        measure = scorer.load(models, SCORERS.settings_model(name)(), CLASSES, "a photo of a {}", "score")
        return (lambda: measure(images, labels)), batch
    if kind == "clip_embed":
        from dalda.models.clip import load_clip

        clip = load_clip(models)
        return (lambda: clip.encode_images(images)), batch
    if kind == "dino":
        from dalda.metrics.dino import DinoSettings
        from dalda.models.dino import load_dino

        own = DinoSettings()  # the metric's defaults: dinov2-small, class token
        dino = load_dino(models, own.model, "evaluate.metrics.dino.model", own.pooling)
        return (lambda: dino.encode_images(images)), batch
    if kind == "inception":
        from dalda.models.inception import load_inception

        inception = load_inception(models)
        return (lambda: inception.encode_images(images)), batch
    if kind == "lpips":
        import torch

        from dalda.models.lpips import load_lpips

        lpips = load_lpips(models)
        left, right = torch.rand(batch, 3, 256, 256) * 2 - 1, torch.rand(batch, 3, 256, 256) * 2 - 1

        def pairs() -> object:
            with torch.inference_mode():
                return lpips(left.to(lpips_device(lpips)), right.to(lpips_device(lpips)))

        return pairs, batch
    from dalda.metrics.fidelity import KidSettings, frechet_distance, kernel_inception_distance

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(set_size, 2048)), rng.normal(0.1, 1.0, size=(set_size, 2048))
    if kind == "fid_math":
        return (lambda: frechet_distance(a, b)), 1
    kid = KidSettings()  # the metric's defaults: 100 subsets of 100 images
    return (lambda: kernel_inception_distance(a, b, kid.subset_size, kid.subsets, 0)), 1


def lpips_device(module) -> object:
    return next(module.parameters()).device


def _child(kind: str, batch: int, repeats: int, set_size: int, device: str) -> dict[str, float]:
    import torch

    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", torch.get_num_threads())))
    start = time.perf_counter()
    work, count = _work(kind, batch, set_size, device)
    build = time.perf_counter() - start
    work()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        begin = time.perf_counter()
        work()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - begin)
    if device.startswith("cuda"):
        memory = torch.cuda.max_memory_allocated() / 2**20
    else:
        memory = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    return {"seconds_per_item": best / count, "build_seconds": build, "peak_memory_mib": memory}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--set-size", type=int, default=500, help="Images per side for the FID/KID maths.")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--only", nargs="*", default=None, help="Entry kinds to run (clip, siglip, vqa, ...).")
    parser.add_argument("--record", type=Path, default=None, help="Append the rows to this Markdown file.")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child, args.batch, args.repeats, args.set_size, args.device)))
        return
    rows = []
    for title, kind in ENTRIES.items():
        if args.only and kind not in args.only:
            continue
        command = [sys.executable, __file__, "--child", kind, "--batch", str(args.batch), "--repeats",
                   str(args.repeats), "--set-size", str(args.set_size), "--device", args.device]  # fmt: skip
        out = subprocess.run(command, capture_output=True, text=True, check=False)
        if out.returncode != 0:
            print(f"{title}: failed\n{out.stderr[-2000:]}", file=sys.stderr)
            continue
        result = json.loads(out.stdout.strip().splitlines()[-1])
        unit = "set" if kind.endswith("_math") else ("pair" if kind == "lpips" else "image")
        rows.append(
            f"| {date.today()} | {title} | {args.device} | {result['seconds_per_item']:.3f} s / {unit} | "
            f"{result['peak_memory_mib']:.0f} MiB | {result['build_seconds']:.1f} s |"
        )
        print(rows[-1], flush=True)
    if args.record:
        header = (
            "| date | entry | device | time | peak memory (process) | build (random init) |\n"
            "|---|---|---|---|---|---|\n"
        )
        machine = f"\n{platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs, batch {args.batch}, "
        machine += f"best of {args.repeats}, python {platform.python_version()}\n\n"
        existing = args.record.read_text() if args.record.is_file() else "# Scorer and metric cost per image\n"
        write_text_atomic(args.record, existing + machine + header + "\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
