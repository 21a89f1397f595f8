"""Plugins: a pip-installable package adds a generator, an alignment scorer and a λ sampler through entry points,
and every process that looks entries up uses them — `dalda run`, `dalda generate`, `python -m dalda.generation`
under torchrun with two CPU processes, and a grid cell run as a submitit task.

The toy distribution (``tests/plugin_toy``: the package and its ``.dist-info`` with ``entry_points.txt``) is
copied to a temporary folder and put on ``PYTHONPATH``, exactly as an installed package sits in site-packages;
nothing in dalda names it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dalda.artefacts import ManifestLine, PlanRow, ScoreRecord
from dalda.io import read_jsonl
from dalda.rundir import RunDir

ROOT = Path(__file__).resolve().parents[1]
TOY = ROOT / "tests" / "plugin_toy"
SETTINGS = [
    "generator.name=toy-solid", "generator.size=12",
    "score.variant=toy-bright",
    "guidance.strategy=toy-constant", "guidance.value=0.3",
]  # fmt: skip
QUICK = [
    "data.shots=1", "data.max_eval_per_class=4", "plan.images_per_real=2", "prompts.num_prompts=2",
    "train.epochs=1", "train.iterations_per_epoch=2", "train.batch_size=4", "train.image_size=32",
    "train.classifiers=[clip]", "train.real_only_reference=false", "train.protocol=fast",
]  # fmt: skip


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The toy plugin 'installed' into a fresh folder."""
    folder = tmp_path_factory.mktemp("site")
    shutil.copytree(TOY, folder, dirs_exist_ok=True)
    return folder


def _env(site: Path) -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(site)]), OMP_NUM_THREADS="1",
                COLUMNS="300")  # fmt: skip


def _dalda(site: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "dalda.cli", *argv]
    return subprocess.run(command, env=_env(site), capture_output=True, text=True, timeout=600)


def _assert_made_by_the_plugin(run: RunDir) -> None:
    plan = PlanRow.read_all(run)
    assert plan and {row.generator for row in plan} == {"toy-solid"} and {row.ip_scale for row in plan} == {0.3}
    lines = ManifestLine.read_all(run)
    assert sorted(line.row_id for line in lines) == [row.row_id for row in plan]
    assert {line.generator for line in lines} == {"toy-solid"} and {line.extra["size"] for line in lines} == {12}
    for line in lines:
        assert (run.synthetic / line.file_name).is_file()


@pytest.fixture(scope="module")
def finished(site, tmp_path_factory) -> RunDir:
    """`dalda run` with the plugin's three entries chosen, on the demo dataset with tiny models."""
    run = RunDir(tmp_path_factory.mktemp("plugin") / "run")
    config = ["-c", str(ROOT / "configs" / "demo.yaml"), "-o", str(run.root)]
    result = _dalda(site, "run", *config, *[part for item in SETTINGS + QUICK for part in ("-s", item)])
    assert result.returncode == 0, result.stderr[-3000:]
    return run


@pytest.mark.slow
def test_dalda_run_uses_the_plugins_generator_scorer_and_sampler(finished):
    _assert_made_by_the_plugin(finished)
    scores = ScoreRecord.read_all(finished)
    assert scores and all("brightness" in score.measures for score in scores)
    recorded = yaml.safe_load(finished.config.read_text())
    assert recorded["generator"] == {"name": "toy-solid", "size": 12}  # the plugin's own settings, resolved
    assert recorded["guidance"] == {"strategy": "toy-constant", "value": 0.3}
    result = json.loads(finished.result_file("clip").read_text())
    assert result["method"] == "template-const-0.3"  # labelled by the plugin sampler's own method part
    assert (finished.report / "index.html").is_file()


@pytest.mark.slow
def test_dalda_generate_and_torchrun_workers_use_the_plugin(finished, site):
    lines = ManifestLine.read_all(finished)
    for line in lines:  # every image goes: generate must make them all again
        (finished.synthetic / line.file_name).unlink()
    result = _dalda(site, "generate", "-o", str(finished.root), "--regenerate")  # every image deleted
    assert result.returncode == 0, result.stderr[-3000:]
    _assert_made_by_the_plugin(finished)

    for line in ManifestLine.read_all(finished):
        (finished.synthetic / line.file_name).unlink()
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               "-m", "dalda.generation", str(finished.root), "regenerate=true"]  # fmt: skip
    torchrun = subprocess.run(command, env=dict(_env(site), ACCELERATE_USE_CPU="true"), capture_output=True,
                              text=True, timeout=600)  # fmt: skip
    assert torchrun.returncode == 0, torchrun.stderr[-3000:]
    assert torchrun.stderr.count("generates") == 2  # both processes took a share of the rows
    _assert_made_by_the_plugin(finished)


@pytest.mark.slow
def test_a_grid_cell_run_as_a_submitit_task_uses_the_plugin(site, tmp_path):
    out = tmp_path / "out"
    base = {"models": {"profile": "tiny"}, "prompts": {"backend": "template", "num_prompts": 2},
            "plan": {"images_per_real": 2}, "data": {"max_eval_per_class": 4},
            "train": {"epochs": 1, "iterations_per_epoch": 2, "batch_size": 4, "image_size": 32,
                      "real_only_reference": False}}  # fmt: skip
    toy = {"generator": {"name": "toy-solid", "size": 12}, "score": {"variant": "toy-bright"},
           "guidance": {"strategy": "toy-constant", "value": 0.3}}  # fmt: skip
    grid = tmp_path / "grid.yaml"
    grid.write_text(yaml.safe_dump({
        "name": "plug", "out_dir": str(out), "base": base, "datasets": ["demo"], "classifiers": ["clip"],
        "methods": [{"name": "toy", "method": "llm-const-0.3", "overrides": toy}],
    }))  # fmt: skip
    script = (
        "import sys\n"
        "from dalda.experiments.launcher import submit_grid\n"
        f"jobs = submit_grid({str(grid)!r}, cluster='local', overrides={{'gpus_per_task': 0}})\n"
        "print(len(jobs), [job.job.result()['failed'] for job in jobs])\n"
    )
    submitted = subprocess.run([sys.executable, "-c", script], env=_env(site), capture_output=True, text=True,
                               timeout=900)  # fmt: skip
    assert submitted.returncode == 0, submitted.stderr[-3000:]
    assert submitted.stdout.split() == ["1", "[0]"]
    (cell,) = [path.parent for path in out.rglob("cell.json")]
    _assert_made_by_the_plugin(RunDir(cell))
    assert read_jsonl(RunDir(cell).manifest)[0]["generator"] == "toy-solid"


def test_a_broken_plugin_names_itself(tmp_path):
    """An entry point that fails to import is one error naming the entry point and its package."""
    dist = tmp_path / "brokenplug-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: brokenplug\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[dalda.guidance]\nbroken = brokenplug_missing:Sampler\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(tmp_path)]))
    result = subprocess.run([sys.executable, "-m", "dalda.cli", "show-config"], env=env, capture_output=True,
                            text=True, timeout=120)  # fmt: skip
    assert result.returncode == 1
    message = " ".join(result.stderr.split())
    assert "entry point broken = brokenplug_missing:Sampler (group dalda.guidance, package brokenplug) failed to " \
           "load: ModuleNotFoundError" in message, message
