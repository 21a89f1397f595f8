"""benchmarks/gpu_check.sh: the one-call GPU check runs end to end on a CPU at tiny sizes (--smoke), every row is
on disk as soon as it is measured (a run stopped midway keeps them), and the summary is written from the rows."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GENERATORS = {"ip-adapter", "real-guidance", "da-fusion", "ip-adapter-plus", "sdxl-ip-adapter"}


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.mark.slow
def test_the_smoke_check_measures_every_part_and_writes_its_summary(tmp_path):
    # --no-install: the test environment already has dalda (CI installs it), and wheels/ must never be installed here
    command = ["bash", "benchmarks/gpu_check.sh", "--device", "cpu", "--smoke", "--no-install", "--out", str(tmp_path)]
    result = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=900, env={**os.environ, "PYTHON": sys.executable}
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    rows = _rows(tmp_path / "gpu_check.jsonl")
    assert len({row["run"] for row in rows}) == 1
    assert not [row for row in rows if row["kind"] == "error"], [row for row in rows if row["kind"] == "error"]
    (machine,) = [row for row in rows if row["kind"] == "machine"]
    assert machine["device"] == "cpu" and machine["torch"]
    (training,) = [row for row in rows if row["kind"] == "training"]
    assert training["authors_draws_s"] > 0 and training["dalda_draws_s"] > 0 and training["run"] == machine["run"]
    generation = [row for row in rows if row["kind"] == "generation"]
    assert {row["generator"] for row in generation if row["path"] == "authors"} == GENERATORS
    engine = [row for row in generation if row["path"] == "engine"]
    assert {row["generator"] for row in engine} == GENERATORS
    assert all(row["images_s"] > 0 and row["ratio"] > 0 for row in engine)
    # every row either measured or said why not; compiled and channels_last variants among them
    variants = {(row["channels_last"], row["compile"]) for row in engine}
    skipped = [row for row in rows if row["kind"] == "skipped"]
    assert len(variants) == 4 or skipped
    summary = (tmp_path / "gpu_check.md").read_text()
    assert "### Generation" in summary and "### Training" in summary and machine["run"] in summary


@pytest.mark.slow
def test_a_check_stopped_midway_keeps_the_rows_it_measured(tmp_path):
    jsonl = tmp_path / "gpu_check.jsonl"
    command = [sys.executable, "benchmarks/gpu_check.py", "--device", "cpu", "--smoke", "--jsonl", str(jsonl)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and process.poll() is None:
            if jsonl.exists() and any(row["kind"] == "generation" for row in _rows(jsonl)):
                break
            time.sleep(0.5)
        assert process.poll() is None, "the check finished before it could be stopped"
        process.send_signal(signal.SIGTERM)  # what gpu_check.sh's timeout sends at the budget
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    rows = _rows(jsonl)  # every line is whole JSON: rows are written in one append each
    assert {"machine", "training", "generation"} <= {row["kind"] for row in rows}
    summary = subprocess.run(
        [sys.executable, "benchmarks/gpu_check.py", "--summarise", "--jsonl", str(jsonl)],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "### Generation" in summary and rows[0]["run"] in summary
