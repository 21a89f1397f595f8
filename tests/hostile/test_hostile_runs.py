"""Issue 21, hostile cases about runs (items 1-4, 6): a careless user copies half a run, moves the data without
saying so, changes an entry's setting in a later stage's command, or points dalda at a folder that merely looks
like a run. Each must stop with one line naming the cause, and lose nothing (tests/hostile/README.md)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_training_support import tiny_run_config
from typer.testing import CliRunner

from dalda.artefacts import HistoryLine
from dalda.cli import app
from dalda.configure import load_config
from dalda.generation.manifest import RegenerationRefused
from dalda.generation.stage import run_generate_stage
from dalda.ownership import record
from dalda.pipeline import recorded_config, run_pipeline
from dalda.rundir import RunDir


def _said(result) -> str:
    return " ".join(result.output.split())


@pytest.fixture
def planned(tmp_path) -> RunDir:
    """A run with its split and plan: base prompts and random λ need no scores and no LLM."""
    config = tiny_run_config(
        tmp_path, prompts={"source": "base"}, guidance={"strategy": "random"}, plan={"images_per_real": 1},
        data={"root": str(tmp_path / "data")},
    )  # fmt: skip
    run_pipeline(config, ["data", "plan"])
    return RunDir(config.out_dir)


def test_a_copy_without_synthetic_stops_instead_of_generating_everything_again(planned):
    config = load_config(planned.config, [])
    record(planned.root, HistoryLine(event="stage", stage="generate", config=recorded_config(config).model_dump(mode="json")))
    with pytest.raises(RegenerationRefused, match=r"manifest.jsonl is missing.*--regenerate"):
        run_generate_stage(config, planned)
    assert not planned.synthetic.exists()


def test_data_moved_without_saying_so_names_the_root_to_set(planned, tmp_path):
    shutil.move(tmp_path / "data", tmp_path / "data-moved")
    result = CliRunner().invoke(app, ["plan", "-o", str(planned.root)])
    assert result.exit_code == 1 and "set -s data.root=" in _said(result)
    result = CliRunner().invoke(app, ["plan", "-o", str(planned.root), "-s", f"data.root={tmp_path / 'data-moved'}"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("command", "override", "field"),
    [
        ("train", "generator.steps=3", "generator.steps"),  # an entry's own setting
        ("evaluate", "plan.images_per_real=4", "plan.images_per_real"),
        ("generate", "seed=9", "seed"),
        ("plan", "data.trial=2", "data.trial"),
    ],
)
def test_a_later_stage_command_may_not_change_an_earlier_stage_s_field(planned, command, override, field):
    stored = planned.config.read_text()
    result = CliRunner().invoke(app, [command, "-o", str(planned.root), "-s", override])
    assert result.exit_code == 1 and field in _said(result), result.output
    assert planned.config.read_text() == stored


def test_a_folder_with_dalda_s_file_names_and_history_is_still_not_a_run(tmp_path):
    folder = tmp_path / "looks-like-a-run"
    folder.mkdir()
    for name, text in {"config.yaml": "seed: 1\n", "split.json": "{}", "history.jsonl": "", "plan.jsonl": ""}.items():
        (folder / name).write_text(text)
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    for argv in (["run", "-o", str(folder)], ["generate", "-o", str(folder)], ["export", str(folder)]):
        result = CliRunner().invoke(app, argv)
        assert result.exit_code == 1 and "not a dalda run directory" in _said(result), (argv, result.output)
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == before


def test_split_json_holds_no_absolute_path_of_the_data(planned, tmp_path):
    text = planned.split.read_text()
    assert text.count(str(tmp_path / "data")) == 1  # the recorded root, once; every image path is relative
    assert str(tmp_path / "data") not in planned.plan.read_text()
