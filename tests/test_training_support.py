"""Helpers shared by the training and evaluation tests: a demo run with a fake synthetic set (no tests here).

The fake synthetic images are noisy copies of their real image, written with a manifest in the generation
stage's format, so training and evaluation can be tested without running Stable Diffusion.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from dalda.artefacts import ManifestLine, Split
from dalda.config import DaldaConfig
from dalda.configure import build_config
from dalda.data.stage import run_data_stage
from dalda.experiments.spec import deep_merge
from dalda.rundir import RunDir


def tiny_run_config(tmp_path: Path, train: dict[str, Any] | None = None, **sections: Any) -> DaldaConfig:
    """Demo data, tiny models on CPU, small images and few iterations."""
    values: dict[str, Any] = {
        "out_dir": str(tmp_path / "run"),
        "data": {"dataset": "demo", "root": str(tmp_path.parent / "demo-data"), "shots": 2},
        "models": {"profile": "tiny", "device": "cpu"},
        "train": {"epochs": 1, "iterations_per_epoch": 10, "batch_size": 8, "image_size": 32, "protocol": "fast",
                  **(train or {})},
        "evaluate": {"max_pairs": 6, "metrics": {"lpips": {"size": 64}}},
    }
    return build_config(deep_merge(values, sections))


def make_run(config: DaldaConfig, images_per_real: int = 3, without_synthetic: int = 0) -> tuple[RunDir, Split]:
    """Draw the split and write ``images_per_real`` noisy copies of each real image (skipping the first
    ``without_synthetic`` real images) plus their manifest; ``images_per_real=0`` writes no manifest."""
    run = RunDir(config.out_dir).ensure()
    split = run_data_stage(config, run)
    if images_per_real == 0:
        return run, split
    rows = []
    for index, record in enumerate(split.train):
        if index < without_synthetic:
            continue
        real = np.asarray(Image.open(record.path).convert("RGB"), dtype=np.float64)
        for m in range(images_per_real):
            noise = np.random.default_rng([index, m]).normal(0.0, 25.0, real.shape)
            file_name = f"class{record.label}/{len(rows):06d}.png"
            (run.synthetic / file_name).parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.clip(real + noise, 0, 255).astype(np.uint8)).save(run.synthetic / file_name)
            rows.append(
                ManifestLine(
                    file_name=file_name,
                    row_id=len(rows),
                    class_name=split.classes[record.label],
                    label=record.label,
                    source_path=str(record.path),
                    source_index=index,
                    m=m,
                    prompt=f"a photo of a {split.classes[record.label]}",
                    ip_scale=0.5,
                    seed=m,
                )
            )
    ManifestLine.write_all(run, rows)
    return run, split
