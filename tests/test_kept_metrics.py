"""Diversity and fidelity over the filter's kept images beside those over every image (``diversity.json`` "kept"),
so filter on and off no longer show identical numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from dalda.artefacts import FilterRecord, ManifestLine
from dalda.configure import build_config
from dalda.evaluation.stage import _diversity
from dalda.hashing import file_sha256
from dalda.rundir import RunDir


def _save(path: Path, pixels: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels.astype(np.uint8)).save(path)
    return path


def test_kept_only_metrics_leave_out_rejected_images_and_differ_from_all(tmp_path):
    config = build_config(
        {
            "out_dir": str(tmp_path / "run"),
            "models": {"profile": "tiny", "device": "cpu"},
            "evaluate": {"metrics": {"fid": {"enabled": True}, "lpips": {"size": 64}}},
        }
    )
    run = RunDir(tmp_path / "run").ensure()
    rng = np.random.default_rng(0)
    real = _save(tmp_path / "real" / "0.png", np.full((32, 32, 3), 120))
    evaluation = [_save(tmp_path / "eval" / f"{i}.png", rng.integers(0, 256, (32, 32, 3))) for i in range(3)]
    shades = [(200, 30, 30), (190, 40, 30), (180, 30, 40), None, None]  # three reds kept, two noise rejected
    manifest, decisions = [], []
    for row_id, shade in enumerate(shades):
        file_name = f"cat/{row_id:06d}.png"
        pixels = rng.integers(0, 256, (32, 32, 3)) if shade is None else np.broadcast_to(shade, (32, 32, 3))
        path = _save(run.synthetic / file_name, pixels)
        manifest.append(ManifestLine(file_name=file_name, row_id=row_id, label=0, class_name="cat",
                                     source_path=str(real), prompt="a photo of a cat", ip_scale=0.5))  # fmt: skip
        kept = shade is not None
        decisions.append(FilterRecord(file_name=file_name, row_id=row_id, label=0, sha256=file_sha256(path),
                                      scorer="softmax", scorer_model="m", score=0.9 if kept else 0.1, top_label=0,
                                      source_similarity=None, similarity_model=None, kept=kept,
                                      reasons=[] if kept else ["low_score"]))  # fmt: skip
    ManifestLine.write_all(run, manifest)
    unfiltered = _diversity(config, run, evaluation)
    assert "kept" not in unfiltered  # no filter decisions: one set of numbers
    FilterRecord.write_all(run, decisions)
    measured = _diversity(config, run, evaluation)
    kept = measured["kept"]
    assert measured["num_images"] == 5 and kept["num_images"] == 3
    assert all(measured[name] == unfiltered[name] for name in ("clip_i", "lpips", "fid"))
    assert kept["clip_i"] > measured["clip_i"]  # the near-identical reds alone are less diverse
    assert kept["lpips"] < measured["lpips"] and kept["fid"] != measured["fid"]
