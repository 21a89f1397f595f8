"""Grids on many processes: shards, status, dry-run cost, concurrent shards sharing artefacts, the Slurm launcher
(through submitit's local executor), and a killed shard finished by a re-run."""

from __future__ import annotations

import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml
from safetensors import safe_open
from typer.testing import CliRunner

from dalda.cli import app
from dalda.config import config_to_yaml
from dalda.experiments.runner import CELL_LOCK, ERROR_FILE, grid_states, load_grid, run_experiment
from dalda.experiments.shards import cell_work, parse_shard, partition
from dalda.experiments.shared_artefacts import SharedStore
from dalda.experiments.spec import ExperimentSpecError
from dalda.io import file_lock
from dalda.rundir import RunDir

ROOT = Path(__file__).resolve().parent.parent
TAB2 = ROOT / "configs" / "experiments" / "tab1_tab2.yaml"
TINY_BASE = {
    "data": {"max_eval_per_class": 4},
    "models": {"profile": "tiny"},
    "prompts": {"num_prompts": 2, "backend": "template"},
    "plan": {"images_per_real": 2},
    "generator": {"resolution": 64, "steps": 2},
    "train": {"epochs": 1, "iterations_per_epoch": 3, "batch_size": 8, "image_size": 32, "protocol": "fast"},
    "evaluate": {"metrics": {"lpips": {"size": 64}}, "max_pairs": 10},
}
METHODS = ["base-ags", "llm-rs", "llm-ags"]
"""Every shared artefact has two or more users: split, features, scores (all: every cell draws λ) and the real-only
references (every cell trains on synthetic images), and prompts (the LLM cells: the base prompt needs no prompts
stage)."""


def _grid(path: Path, out: Path, methods: list[str] = METHODS) -> Path:
    spec = {"name": "conc", "out_dir": str(out), "base": TINY_BASE, "datasets": ["demo"], "methods": methods,
            "classifiers": ["clip"]}  # fmt: skip
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(ROOT / "src"), COLUMNS="300", OMP_NUM_THREADS="1")


def _shard(grid: Path, index: int, count: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "dalda.cli", "experiment", str(grid), "--shard", f"{index}/{count}"]
    return subprocess.Popen(command, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _same_table(left: str, right: str) -> bool:
    """Equal cell by cell; numbers to 1e-4 relative (the serial run computes with more CPU threads than the
    shards, which changes the last float bits of CLIP-I and LPIPS, never a count or an accuracy)."""
    rows = [(a.split(","), b.split(",")) for a, b in zip(left.splitlines(), right.splitlines(), strict=True)]
    for a, b in rows:
        if len(a) != len(b):
            return False
        for x, y in zip(a, b):
            try:
                if not math.isclose(float(x), float(y), rel_tol=1e-4) and not (math.isnan(float(x)) and math.isnan(float(y))):
                    return False
            except ValueError:
                if x != y:
                    return False
    return True


def _tables(out: Path) -> dict[str, str]:
    folder = out / "experiments" / "conc" / "report" / "tables"
    return {path.name: path.read_text() for path in sorted(folder.glob("*.csv"))}


def test_shard_argument_is_checked():
    assert parse_shard("2/5") == (2, 5)
    for bad in ("5/5", "1/0", "a/b", "1"):
        with pytest.raises(ExperimentSpecError, match="i counts from 0"):
            parse_shard(bad)


@pytest.mark.parametrize("count", [1, 2, 3, 5, 7, 54, 60])
def test_shards_partition_the_paper_grid_exactly_and_balanced(count):
    _, _, cells = load_grid(TAB2)
    parts = partition(cells, count)
    keys = [cell.key for part in parts for cell in part]
    assert sorted(keys) == sorted(cell.key for cell in cells) and len(set(keys)) == len(cells)  # no gap, no overlap
    order = {cell.key: i for i, cell in enumerate(cells)}
    assert all([order[c.key] for c in part] == sorted(order[c.key] for c in part) for part in parts)
    assert [[c.key for c in part] for part in partition(load_grid(TAB2)[2], count)] == [
        [c.key for c in part] for part in parts
    ]  # another process computes the same partition
    loads = [sum(cell_work(cell).units for cell in part) for part in parts]
    heaviest = max(cell_work(cell).units for cell in cells)
    assert max(loads) - min(loads) <= heaviest
    if count == 2:  # DA-Fusion's textual inversion makes its cells the heaviest; they are spread, not stacked
        da_fusion = [sum(c.method == "da-fusion" for c in part) for part in parts]
        assert abs(da_fusion[0] - da_fusion[1]) <= 1


def test_status_reads_done_running_failed_and_pending_from_disk(tmp_path):
    grid = _grid(tmp_path / "grid.yaml", tmp_path / "out")
    _, _, cells = load_grid(grid)
    done, running, failed = (RunDir(cell.config.out_dir).ensure() for cell in cells)
    done.config.write_text(config_to_yaml(cells[0].config))
    done.results.mkdir()
    done.result_file("clip").write_text("{}")
    (failed.root / ERROR_FILE).write_text("Traceback ...")
    with file_lock(running.root / CELL_LOCK):
        assert grid_states(cells) == {
            "demo/1shot/trial0/base-ags": "done",
            "demo/1shot/trial0/llm-rs": "running",
            "demo/1shot/trial0/llm-ags": "failed",
        }
        result = CliRunner().invoke(app, ["experiment", str(grid), "--status", "--shard", "0/2"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "1 done, 1 running, 1 failed, 0 pending" in result.output
    assert grid_states(cells)["demo/1shot/trial0/llm-rs"] == "pending"  # the lock went with its holder


def test_dry_run_counts_images_requests_and_hours(tmp_path):
    result = CliRunner().invoke(app, ["experiment", str(TAB2), "--dry-run"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if "flowers102/1shot/trial2/llm-ags" in line)
    assert re.search(r"│\s+102 │\s+1,020 │", row), row  # 1 shot x 102 classes x M=10
    assert "total: 43,200 images, 240 LLM requests" in result.output  # prompts asked once per dataset (37+101+102)
    assert "CPU-only estimates" in result.output

    gpu = {"rows": [
        {"kind": "generate", "device": "gpu", "hardware": "H100", "resolution": 512, "steps": 30, "images_per_s": 4.0},
        {"kind": "encode", "device": "gpu", "hardware": "H100", "resolution": 224, "images_per_s": 1000.0},
    ]}  # fmt: skip
    (tmp_path / "gpu.json").write_text(json.dumps(gpu))
    args = ["experiment", str(TAB2), "--dry-run", "--throughput", str(tmp_path / "gpu.json")]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "CPU-only" not in result.output and "GPU-hours on H100" in result.output
    hours = float(re.search(r"([\d.]+) GPU-hours", result.output)[1])
    generation = 43_200 / 4.0 / 3600  # every cell generates at 512 px, 30 steps
    assert generation < hours < generation * 3  # plus textual inversion and encoding

    (tmp_path / "bad.json").write_text(json.dumps({"rows": [{"kind": "generate"}]}))
    result = CliRunner().invoke(app, ["experiment", str(TAB2), "--dry-run", "--throughput", str(tmp_path / "bad.json")])
    assert result.exit_code == 1 and "bad.json is invalid (no row with kind 'encode')" in " ".join(result.output.split())


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    """The tiny grid run in one process: the reference the concurrent runs must reproduce."""
    folder = tmp_path_factory.mktemp("serial")
    summary = run_experiment(_grid(folder / "grid.yaml", folder / "out"))
    assert summary.failed == [], [cell.error for cell in summary.failed]
    return folder / "out"


@pytest.mark.slow
@pytest.mark.parametrize("count", [2, 3])
def test_concurrent_shards_finish_every_cell_and_make_each_shared_artefact_once(serial, tmp_path, count):
    out = tmp_path / "out"
    grid = _grid(tmp_path / "grid.yaml", out)
    processes = [_shard(grid, index, count) for index in range(count)]
    logs = [process.communicate(timeout=900)[0] for process in processes]
    assert [process.returncode for process in processes] == [0] * count, logs[0][-3000:]

    _, _, cells = load_grid(grid)
    assert set(grid_states(cells).values()) == {"done"}
    made = Counter(line["folder"] for line in SharedStore(out).created())
    assert set(made.values()) == {1}  # each artefact made once...
    kinds = sorted(line["folder"].rsplit("-", 1)[0] for line in SharedStore(out).created())
    assert kinds == sorted(line["folder"].rsplit("-", 1)[0] for line in SharedStore(serial).created())  # ...as serially
    shared = {"split", "scores", "prompts", "real-only references"}  # the reference: one fit for every method cell
    assert {line["artefact"] for line in SharedStore(out).created()} == shared
    encoded = Counter()
    for log in logs:
        for name, number in re.findall(r"feature cache (\S+): encoded (\d+) new features", log):
            encoded[name] += int(number)
    for name, number in encoded.items():  # every feature encoded by exactly one process, none lost
        with safe_open(str(SharedStore(out).features("demo") / name), framework="pt") as handle:
            assert len(list(handle.keys())) == number
    assert _tables(out).keys() == _tables(serial).keys()
    for name, text in _tables(serial).items():
        assert _same_table(_tables(out)[name], text), name
    summary = json.loads((out / "experiments" / "conc" / "summary.json").read_text())
    assert [cell["method"] for cell in summary["cells"]] == METHODS and summary["report"]


@pytest.mark.slow
def test_a_killed_shard_is_finished_by_running_it_again(serial, tmp_path):
    out = tmp_path / "out"
    grid = _grid(tmp_path / "grid.yaml", out)
    _, _, cells = load_grid(grid)
    mine = [RunDir(cell.config.out_dir).root / CELL_LOCK for cell in partition(cells, 2)[0]]
    victim, other = _shard(grid, 0, 2), _shard(grid, 1, 2)
    deadline = time.monotonic() + 300
    while not any(path.exists() for path in mine):
        assert victim.poll() is None and time.monotonic() < deadline, "shard 0 never started a cell"
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.communicate()
    assert other.communicate(timeout=900)[1] is None and other.returncode == 0
    states = grid_states(cells)
    assert "pending" in states.values() and "running" not in states.values()
    assert not (out / "experiments" / "conc" / "report").exists()  # the grid is unfinished: no report yet

    again = run_experiment(grid, shard=(0, 2))
    assert again.failed == [] and set(grid_states(cells).values()) == {"done"}
    assert all(_same_table(_tables(out)[name], text) for name, text in _tables(serial).items())


@pytest.mark.slow
def test_slurm_launcher_runs_a_tiny_grid_through_submitits_local_executor(tmp_path):
    out = tmp_path / "out"
    grid = _grid(tmp_path / "grid.yaml", out, ["none", "base-rs"])
    spec = yaml.safe_load(grid.read_text()) | {"slurm": {"partition": "gpu", "time_min": 30, "sbatch": {"qos": "x"}}}
    grid.write_text(yaml.safe_dump(spec))
    os.environ.update(PYTHONPATH=str(ROOT / "src"), OMP_NUM_THREADS="1")
    from dalda.experiments.launcher import submit_grid

    jobs = submit_grid(grid, cluster="local", overrides={"gpus_per_task": 0})
    assert [job.cell for job in jobs] == ["demo/1shot/trial0/none", "demo/1shot/trial0/base-rs"]
    results = [job.job.result() for job in jobs]  # raises with the task's traceback if a cell failed
    assert all(result["failed"] == 0 for result in results)
    _, _, cells = load_grid(grid)
    assert set(grid_states(cells).values()) == {"done"}
    assert (out / "experiments" / "conc" / "report" / "index.html").is_file()
    records = [json.loads(line) for line in (out / "experiments" / "conc" / "slurm" / "submissions.jsonl").open()]
    assert [record["cell"] for record in records] == [job.cell for job in jobs]
    assert all(Path(record["stdout"]).is_file() for record in records)
    output = Path(records[1]["stderr"]).read_text() + Path(records[1]["stdout"]).read_text()
    assert "cell demo/1shot/trial0/base-rs" in output

    assert submit_grid(grid, cluster="local") == []  # nothing left: a re-run submits nothing
    RunDir(cells[1].config.out_dir).result_file("clip").unlink()
    again = submit_grid(grid, cluster="local", overrides={"gpus_per_task": 0})
    assert [job.cell for job in again] == ["demo/1shot/trial0/base-rs"]
    again[0].job.result()


def test_slurm_requests_from_the_grid_file_and_flags_reach_the_sbatch_script(tmp_path, monkeypatch):
    import submitit

    monkeypatch.setattr(submitit.SlurmExecutor, "affinity", staticmethod(lambda: 1))  # as if srun were installed

    from dalda.experiments.launcher import _executor
    from dalda.experiments.spec import SlurmBlock

    block = SlurmBlock(partition="gpu", gpus_per_task=2, time_min=600, mem_gb=64, array_parallelism=10,
                       sbatch={"account": "proj1"}, setup=["module load cuda"])  # fmt: skip
    executor = _executor(submitit, tmp_path, block, "slurm", "tab3")
    script = executor._make_submission_file_text("python -m task", "uid")  # what sbatch would receive
    for line in ("--partition=gpu", "--gpus-per-node=2", "--time=600", "--mem=65536MB", "--account=proj1",
                 "--job-name=dalda-tab3", "module load cuda"):  # fmt: skip
        assert line in script, line
    assert executor.parameters["array_parallelism"] == 10
