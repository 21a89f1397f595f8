"""The evaluate stage with LPIPS from per-image features against LPIPS run pair by pair, side by side in one run.

Both runs evaluate a copy of one finished run (the demo: ``dalda run --config configs/demo.yaml``), one after the
other, the whole stage each time (accuracy, CLIP-I, LPIPS, FID/KID as the run's config enables them, model
loading included). "pair by pair" is the stage before issue 22.4: every LPIPS pair ran AlexNet on both of its
images (``lpips.LPIPS.forward``), kept here only to be timed against; "per image" is dalda's
``dalda.metrics.lpips_distance``, which runs AlexNet once per image of a group. The two LPIPS values are
printed too: they must agree to float rounding.

    python benchmarks/bench_evaluate.py runs/demo --record benchmarks/results/evaluate.md
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

import numpy as np
import torch

import dalda.metrics.lpips_distance as lpips_distance
from dalda.configure import load_config
from dalda.evaluation.stage import run_evaluate_stage
from dalda.io import write_text_atomic
from dalda.metrics.spec import ImageLoader
from dalda.rundir import RunDir

HEADER = (
    "| date | hardware | run | LPIPS pairs | pair by pair s | per image s | ratio | LPIPS (pair by pair / per image) "
    "| command |\n|---|---|---|---|---|---|---|---|---|\n"
)


@torch.inference_mode()
def lpips_pair_by_pair(
    model: torch.nn.Module, paths: Sequence[Path], pairs: Mapping[str, np.ndarray], size: int, batch_size: int,
    load_image: ImageLoader,
) -> dict[str, float]:  # fmt: skip
    """The stage's LPIPS before per-image features: both images of every pair through the whole model."""
    device = next(model.parameters()).device
    scores = {}
    for name, index in pairs.items():
        images = {i: lpips_distance._lpips_tensor(paths[i], size, load_image) for i in np.unique(index)}
        distances = []
        for start in range(0, len(index), batch_size):
            chunk = index[start : start + batch_size]
            left = torch.stack([images[i] for i in chunk[:, 0]]).to(device).float() / 127.5 - 1.0
            right = torch.stack([images[j] for j in chunk[:, 1]]).to(device).float() / 127.5 - 1.0
            distances.append(model(left, right).flatten().float().cpu())
        scores[name] = float(torch.cat(distances).mean())
    return scores


def evaluate_copy(source: Path, scratch: Path, name: str) -> tuple[float, dict]:
    """Seconds of the evaluate stage on a fresh copy of ``source``, and the diversity it wrote."""
    target = scratch / name
    shutil.copytree(source, target)
    config = load_config(target / "config.yaml", [f"out_dir={target}"], announce=False)
    start = time.perf_counter()
    run_evaluate_stage(config, RunDir(target))
    seconds = time.perf_counter() - start
    return seconds, json.loads((target / "diversity.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="a finished run (trained classifiers and synthetic images)")
    parser.add_argument("--record", type=Path, help="append the row to this markdown file")
    args = parser.parse_args()
    batched = lpips_distance.lpips_by_group
    with tempfile.TemporaryDirectory() as scratch:
        lpips_distance.lpips_by_group = lpips_pair_by_pair  # the entry imports it when it scores
        old_s, old = evaluate_copy(args.run, Path(scratch), "pair_by_pair")
        lpips_distance.lpips_by_group = batched
        new_s, new = evaluate_copy(args.run, Path(scratch), "per_image")
    pairs = sum(old[rule]["lpips"]["num_pairs"] for rule in ("by_source", "by_class") if rule in old)
    print(f"evaluate stage: pair by pair {old_s:.2f} s, per image {new_s:.2f} s, ratio {old_s / new_s:.2f}x")
    print(f"LPIPS: pair by pair {old['lpips']!r}, per image {new['lpips']!r}")
    hardware = f"CPU ({platform.machine()}, {torch.get_num_threads()} threads)"
    command = "python " + " ".join(sys.argv)
    row = (f"| {date.today()} | {hardware} | {args.run.name} | {pairs} | {old_s:.2f} | {new_s:.2f} | "
           f"{old_s / new_s:.2f}x | {old['lpips']:.6f} / {new['lpips']:.6f} | `{command}` |\n")
    print(row, end="")
    if args.record:
        text = args.record.read_text() if args.record.exists() else "# Evaluate stage\n\n" + HEADER
        write_text_atomic(args.record, text + row)


if __name__ == "__main__":
    main()
