"""The README's first command: `dalda run --config configs/demo.yaml` leaves every stage's output, offline."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dalda.io import read_jsonl

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_offline_default_runs_every_stage(tmp_path):
    out = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "dalda.cli", "run", "--config", str(ROOT / "configs" / "demo.yaml"), "-o", str(out)],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    split = json.loads((out / "split.json").read_text())
    scores = read_jsonl(out / "scores.jsonl")
    plan = read_jsonl(out / "plan.jsonl")
    manifest = read_jsonl(out / "synthetic" / "metadata.jsonl")
    assert len(scores) == len(split["train"]) == 5 * 4
    assert (out / "clipscore_hist.png").stat().st_size > 0
    prompts = json.loads((out / "prompts.json").read_text())
    assert sorted(prompts) == sorted(split["classes"]) and all(len(p) == 4 for p in prompts.values())
    assert len(plan) == 4 * len(split["train"])
    assert sorted(line["row_id"] for line in manifest) == [row["row_id"] for row in plan]
    assert all((out / "synthetic" / line["file_name"]).is_file() for line in manifest)
    for classifier in ("resnet50", "clip"):
        record = json.loads((out / "results" / f"{classifier}.json").read_text())
        assert record["method"] == "template-ags" and 0.0 <= record["accuracy"] <= 1.0  # no LLM wrote them
    assert "clip_i" in (out / "diversity.json").read_text()
    assert (out / "report" / "index.html").stat().st_size > 0
