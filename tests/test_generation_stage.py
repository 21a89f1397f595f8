"""The generation stage on a tiny run directory: layout, manifest, resume after damage or SIGKILL, processes."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw
from typer.testing import CliRunner

from dalda.cli import app
from dalda.config import config_to_yaml
from dalda.configure import build_config, load_config
from dalda.generation import run_generate_stage
from dalda.generation.manifest import RegenerationRefused, class_dir, image_is_readable
from dalda.generation.sharding import shard
from dalda.io import read_jsonl
from dalda.artefacts import PlanRow
from dalda.ownership import claim
from dalda.rundir import RunDir

SRC = str(Path(__file__).resolve().parents[1] / "src")

CLASSES = ["red square", "blue/circle"]
TINY_GENERATION = [
    "models.profile=tiny",
    "models.device=cpu",
    "generator.resolution=32",
    "generator.steps=2",
    "generation.batch_size=3",
]


def _draw_reference(path: Path, label: int, index: int) -> Path:
    """A small demo-like picture: a coloured shape on a noisy background, odd sizes to exercise resizing."""
    rng = np.random.default_rng(100 * label + index)
    size = (40 + 8 * index, 36 + 4 * label)
    image = Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8))
    draw = ImageDraw.Draw(image)
    colour = (220, 30, 30) if label == 0 else (30, 30, 220)
    box = (6, 6, size[0] - 6, size[1] - 6)
    (draw.rectangle if label == 0 else draw.ellipse)(box, fill=colour)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path


def make_run(root: Path, shots: int = 2, per_real: int = 3, overrides: list[str] | None = None) -> RunDir:
    """config.yaml + plan.jsonl for CLASSES x shots real images x per_real synthetic images each."""
    run = claim(root)
    config = build_config({"out_dir": str(root)}, TINY_GENERATION + (overrides or []))
    run.config.write_text(config_to_yaml(config))
    rows = []
    for label, name in enumerate(CLASSES):
        for shot in range(shots):
            source = _draw_reference(root / "real" / f"{label}_{shot}.png", label, shot)
            for m in range(per_real):
                row_id = len(rows)
                rows.append(
                    PlanRow(
                        row_id=row_id,
                        class_name=name,
                        label=label,
                        source_path=str(source),
                        source_index=label * shots + shot,
                        m=m,
                        prompt=f"best quality, high quality, a photo of a {name}, view {m}",
                        ip_scale=round(0.1 + 0.8 * ((row_id * 37) % 10) / 10, 3),
                        clipscore=0.5,
                        group="high",
                        seed=1000 + row_id,
                    )
                )
    PlanRow.write_all(run, rows)
    return run


def _assert_complete(run: RunDir) -> list[dict]:
    """Every plan row exactly once in the manifest, each image readable and sized like its source."""
    lines = read_jsonl(run.manifest)
    rows = PlanRow.read_all(run)
    assert sorted(line["row_id"] for line in lines) == sorted(row.row_id for row in rows)
    for line, row in zip(sorted(lines, key=lambda line: line["row_id"]), rows):
        path = run.synthetic / line["file_name"]
        assert image_is_readable(path), path
        with Image.open(row.source_path) as source, Image.open(path) as made:
            assert made.size == source.size
    return lines


def _pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), dtype=np.int16)


def _expand(ranges: str) -> list[int]:
    """``0-2,5`` -> [0, 1, 2, 5] (the stage logs each process's rows as ranges)."""
    ids: list[int] = []
    for part in ranges.split(","):
        first, _, last = part.partition("-")
        ids.extend(range(int(first), int(last or first) + 1))
    return ids


def _subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_class_dir_is_filesystem_safe() -> None:
    assert class_dir("American Bulldog") == "American_Bulldog"
    assert class_dir("blue/circle") == "blue_circle"
    assert class_dir("../..") == "class"
    assert class_dir(".hidden name!") == "hidden_name"


def test_shards_cover_rows_once_contiguously() -> None:
    rows = list(range(11))
    for count in (1, 2, 3, 5, 11, 13):
        parts = [shard(rows, index, count) for index in range(count)]
        assert sum(parts, []) == rows
        assert max(map(len, parts)) - min(map(len, parts)) <= 1
    with pytest.raises(ValueError, match="outside"):
        shard(rows, 2, 2)


def test_stage_writes_an_imagefolder_dataset_and_skips_finished_rows(tmp_path: Path) -> None:
    import datasets

    run = make_run(tmp_path / "run")
    config = load_config(run.config)
    summary = run_generate_stage(config, run)
    assert (summary.planned, summary.done_before, summary.generated, summary.failed) == (12, 0, 12, [])
    lines = _assert_complete(run)
    first = lines[0]
    assert first["file_name"] == "red_square/000000.png"
    assert (first["label"], first["class_name"], first["scheduler"], first["steps"]) == (0, "red square", "ddim", 2)

    loaded = datasets.load_dataset("imagefolder", data_dir=str(run.synthetic), split="train")
    assert len(loaded) == 12
    assert sorted(loaded["row_id"]) == list(range(12))
    assert sorted(set(loaded["label"])) == [0, 1]
    assert {"prompt", "ip_scale", "seed", "sd_model", "guidance_scale"} <= set(loaded.column_names)

    again = run_generate_stage(config, run)
    assert (again.done_before, again.generated) == (12, 0)


def test_resume_regenerates_missing_broken_and_stale_rows_identically(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run")
    config = load_config(run.config)
    run_generate_stage(config, run)
    lines = {line["row_id"]: line for line in read_jsonl(run.manifest)}
    originals = {row_id: _pixels(run.synthetic / lines[row_id]["file_name"]) for row_id in (1, 5, 7)}

    (run.synthetic / lines[1]["file_name"]).unlink()  # missing file
    broken = run.synthetic / lines[5]["file_name"]
    broken.write_bytes(broken.read_bytes()[:100])  # truncated file
    stale = dict(lines[7], prompt="a different prompt")  # line from another plan
    kept = [line for row_id, line in sorted(lines.items()) if row_id != 7] + [stale]
    run.manifest.write_text("".join(json.dumps(line) + "\n" for line in kept) + '{"row_id": 3, "file_na')

    with pytest.raises(RegenerationRefused, match="missing or unreadable image file"):  # 3 of 12: too many unasked
        run_generate_stage(config, run)
    summary = run_generate_stage(config.model_copy(update={"regenerate": True}), run)
    assert (summary.done_before, summary.generated) == (9, 3)
    _assert_complete(run)
    # Regenerated in other batches than before: same picture (at most one 8-bit level of rounding).
    for row_id, before in originals.items():
        assert np.abs(_pixels(run.synthetic / lines[row_id]["file_name"]) - before).max() <= 1


def test_changed_settings_regenerate_and_unreadable_sources_fail(tmp_path: Path, caplog) -> None:
    run = make_run(tmp_path / "run", shots=1, per_real=2)
    run_generate_stage(load_config(run.config), run)
    source = PlanRow.read_all(run)[0].source_path
    Path(source).write_bytes(b"not an image")
    caplog.set_level(logging.INFO, logger="dalda.generation")
    with pytest.raises(RegenerationRefused, match="changed scheduler"):
        run_generate_stage(load_config(run.config, ["generator.scheduler=dpm-solver++"]), run)
    summary = run_generate_stage(load_config(run.config, ["generator.scheduler=dpm-solver++", "regenerate=true"]), run)
    assert summary.done_before == 0
    assert [failure.row_id for failure in summary.failed] == [0, 1]
    assert source in summary.failed[0].error
    # The stage itself logs its summary and names a failed row (the pipeline adds nothing around it).
    assert "generation: 4 planned, 0 done before, 2 generated now" in caplog.text
    assert "2 rows failed" in caplog.text and "e.g. row 0" in caplog.text
    lines = read_jsonl(run.manifest)
    assert sorted(line["row_id"] for line in lines) == [2, 3]
    assert {line["scheduler"] for line in lines} == {"dpm-solver++"}


def test_writer_threads_and_compress_level_keep_pixels_and_failed_rows_make_generate_exit_1(tmp_path: Path) -> None:
    one = make_run(tmp_path / "one", shots=1, per_real=3, overrides=["generation.writer_threads=1"])
    run_generate_stage(load_config(one.config), one)
    many = make_run(
        tmp_path / "many",
        shots=1,
        per_real=3,
        overrides=["generation.writer_threads=3", "generation.png_compress_level=0", "generation.batch_size=4"],
    )
    run_generate_stage(load_config(many.config), many)
    lines = _assert_complete(many)
    assert [line["row_id"] for line in lines] == sorted(line["row_id"] for line in lines)
    for line in lines:
        # Same picture whatever the threads (other batches round by at most one 8-bit level); lossless PNG.
        assert np.abs(_pixels(one.synthetic / line["file_name"]) - _pixels(many.synthetic / line["file_name"])).max() <= 1
        assert (many.synthetic / line["file_name"]).stat().st_size > (one.synthetic / line["file_name"]).stat().st_size

    Path(PlanRow.read_all(many)[0].source_path).write_bytes(b"not an image")
    for line in lines[:3]:
        (many.synthetic / line["file_name"]).unlink()
    result = CliRunner().invoke(app, ["generate", "-o", str(many.root), "--regenerate"])
    assert result.exit_code == 1, result.output
    said = " ".join(result.output.split())
    assert "3 synthetic rows failed" in said and "run `dalda generate` again" in said


@pytest.mark.slow
def test_sigkill_mid_run_then_resume_yields_every_row_once(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", overrides=["generation.batch_size=1"])
    command = [sys.executable, "-m", "dalda.generation", str(run.root)]
    process = subprocess.Popen(command, env=_subprocess_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while len(read_jsonl(run.manifest)) < 3:
            assert process.poll() is None, "generation ended before it could be killed"
            assert time.monotonic() < deadline, "generation made no progress"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
    finished = len(read_jsonl(run.manifest))
    assert 3 <= finished < 12

    summary = run_generate_stage(load_config(run.config), run)
    assert summary.done_before + summary.generated == summary.planned == 12
    _assert_complete(run)
    assert not list(run.synthetic.rglob("*.tmp"))


@pytest.mark.slow
def test_two_cpu_processes_split_rows_without_overlap(tmp_path: Path) -> None:
    """torchrun is the launcher under ``accelerate launch --multi_gpu``; ``accelerate launch --cpu`` starts
    several CPU processes only through MPI, so two CPU processes are started here with torchrun (gloo)."""
    run = make_run(tmp_path / "run")
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        "-m", "dalda.generation", str(run.root),
    ]  # fmt: skip
    env = dict(_subprocess_env(), ACCELERATE_USE_CPU="true")
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    shares = [_expand(ranges) for ranges in re.findall(r"process \d/2 generates \d+ rows: ([\d,-]+)", result.stderr)]
    assert len(shares) == 2 and all(shares), result.stderr[-3000:]
    assert sorted(shares[0] + shares[1]) == list(range(12))
    _assert_complete(run)
    assert not (run.synthetic / ".parts").exists()


def _children(pid: int) -> list[int]:
    """Direct child processes of ``pid`` (Linux /proc)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="finds torchrun's workers through Linux /proc")
def test_one_of_two_processes_killed_then_a_rerun_makes_only_the_missing_rows(tmp_path: Path) -> None:
    """The multi-process recipe's failure case (`docs/paper-grids.md`, "Several GPUs or nodes inside one cell"): one worker dies,
    torchrun stops the other, and a re-run (here one process) generates only the rows not yet on disk."""
    run = make_run(tmp_path / "run", overrides=["generation.batch_size=1"])
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        "-m", "dalda.generation", str(run.root),
    ]  # fmt: skip
    env = dict(_subprocess_env(), ACCELERATE_USE_CPU="true")
    launcher = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while sum(len(read_jsonl(part)) for part in run.manifest_parts.glob("part-*.jsonl")) < 2:
            assert launcher.poll() is None, "generation ended before a worker could be killed"
            assert time.monotonic() < deadline, "generation made no progress"
            time.sleep(0.05)
        workers = _children(launcher.pid)
        assert len(workers) == 2, workers
        os.kill(workers[0], signal.SIGKILL)
        assert launcher.wait(timeout=120) != 0  # the launcher reports the failure and stops the other worker
    finally:
        launcher.kill()
        launcher.wait()
    finished_before = sum(len(read_jsonl(part)) for part in run.manifest_parts.glob("part-*.jsonl"))
    assert 2 <= finished_before < 12

    summary = run_generate_stage(load_config(run.config), run)
    assert summary.done_before >= 2 and summary.done_before + summary.generated == summary.planned == 12
    _assert_complete(run)
    assert not run.manifest_parts.exists() and not list(run.synthetic.rglob("*.tmp"))
