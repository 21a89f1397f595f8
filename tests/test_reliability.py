"""Issue 12, files / provenance / concurrency: dalda never deletes or overwrites what it did not write, a failed
command leaves the run's config alone, a run directory has one writer at a time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from test_training_support import tiny_run_config
from typer.testing import CliRunner

from dalda.artefacts import HistoryLine
from dalda.cli import app
from dalda.config import config_to_yaml
from dalda.configure import build_config
from dalda.evaluation.stage import synthetic_method_label
from dalda.generation.manifest import consolidate
from dalda.ownership import ForeignFolderError, RunInUseError, claim, history, locked, record
from dalda.pipeline import recorded_config, run_pipeline
from dalda.prompts import stage as prompts_stage
from dalda.prompts.record import PromptsError
from dalda.report.stage import build_report
from dalda.rundir import RunDir

SRC = Path(__file__).resolve().parents[1] / "src"


@pytest.fixture
def config(tmp_path):
    return tiny_run_config(tmp_path, prompts={"source": "llm", "backend": "template", "num_prompts": 2})


def test_a_foreign_folder_is_refused_and_left_as_it_was(config):
    out = Path(config.out_dir)
    out.mkdir()
    (out / "budget.xlsx").write_bytes(b"numbers")
    (out / "config.yaml").write_text("mine: true\n")
    with pytest.raises(ForeignFolderError, match=f"{out} is not empty and is not a dalda run directory"):
        run_pipeline(config, ["data"])
    assert sorted(p.name for p in out.iterdir()) == ["budget.xlsx", "config.yaml"]
    assert (out / "config.yaml").read_text() == "mine: true\n"

    result = CliRunner().invoke(app, ["data", "-o", str(out), "-s", "models.profile=tiny"])
    assert result.exit_code == 1 and "not a dalda run directory" in result.output
    assert "Traceback" not in result.output


def test_a_folder_with_dalda_like_files_but_no_marker_is_never_adopted(config):
    """Issue 21 item 6: config.yaml + split.json prove nothing; only the marker makes a folder dalda's."""
    out = Path(config.out_dir)
    run = claim(out)
    run_pipeline(config, ["data"])
    run.marker.unlink()
    user_config = run.config.read_text()
    with pytest.raises(ForeignFolderError, match="not a dalda run directory"):
        run_pipeline(config, ["data"])
    run.split.unlink()  # the user removes a file, as an error might suggest: still not adopted
    with pytest.raises(ForeignFolderError, match="not a dalda run directory"):
        run_pipeline(config, ["data"])
    assert run.config.read_text() == user_config and not run.marker.exists()
    result = CliRunner().invoke(app, ["data", "-o", str(out), "-s", "models.profile=tiny"])
    assert result.exit_code == 1 and "not a dalda run directory" in result.output
    assert run.config.read_text() == user_config and not run.marker.exists()


def test_report_keeps_a_user_file_inside_report_and_refuses_a_foreign_report_folder(config):
    run = RunDir(Path(config.out_dir))
    run_pipeline(config, ["data"])
    build_report(run.root)
    first = json.loads((run.report / "manifest.json").read_text())
    assert "index.html" in first["files"]
    (run.report / "budget.xlsx").write_text("mine")
    (run.report / "tables" / "notes.txt").write_text("mine too")
    stale = run.report / "tables" / "runs.csv"
    stale.write_text("old dalda table")
    build_report(run.root)
    assert (run.report / "budget.xlsx").read_text() == "mine"
    assert (run.report / "tables" / "notes.txt").read_text() == "mine too"
    assert stale.read_text() != "old dalda table"
    assert not [p for p in run.root.iterdir() if p.name.startswith(".report.")]

    (run.report / "manifest.json").unlink()  # now report/ holds files no dalda manifest accounts for
    with pytest.raises(FileExistsError, match="holds files that dalda did not write"):
        build_report(run.root)
    assert (run.report / "budget.xlsx").read_text() == "mine"
    assert (run.report / "index.html").is_file()


def test_synthetic_cleanup_deletes_only_dalda_s_temporaries(tmp_path):
    run = RunDir(tmp_path)
    (run.synthetic / "cat").mkdir(parents=True)
    own = [run.synthetic / ".manifest.jsonl.abc123.tmp", run.synthetic / ".metadata.jsonl.k_9.tmp",
           run.synthetic / ".metadata.parquet.zz1.tmp", run.synthetic / "cat" / ".000007.png.x_y9.tmp"]  # fmt: skip
    user = [run.synthetic / ".notes.tmp", run.synthetic / "cat" / ".draft.tmp", run.manifest_parts / "mine.txt",
            run.synthetic / ".metadata.csv.abc.tmp"]  # fmt: skip
    for path in own + user:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    (run.manifest_parts / "part-0001.jsonl").write_text("")
    consolidate(run, {})
    assert not any(path.exists() for path in own)
    assert all(path.exists() for path in user)
    assert not (run.manifest_parts / "part-0001.jsonl").exists()


def test_a_refused_command_does_not_rewrite_config_yaml_and_is_in_the_history(config):
    run = RunDir(Path(config.out_dir))
    run_pipeline(config, ["data"])
    before = run.config.read_text()
    changed = build_config(yaml.safe_load(before), ["data.shots=3"])
    with pytest.raises(ValueError, match="shots="):
        run_pipeline(changed, ["data"], ["data.shots=3"])
    assert run.config.read_text() == before
    commands = [entry for entry in history(run.root) if entry["event"] == "command"]
    assert [entry["status"] for entry in commands] == ["ok", "failed"]
    assert commands[1]["overrides"] == ["data.shots=3"] and commands[1]["config"]["data"]["shots"] == 3
    assert "shots=" in commands[1]["error"] and commands[1]["ended"] >= commands[1]["started"]
    run_pipeline(build_config(yaml.safe_load(run.config.read_text())), ["data"])  # a plain rerun still works


def test_regenerate_is_an_action_and_a_failed_regenerate_keeps_the_complete_record(config, monkeypatch):
    run = RunDir(Path(config.out_dir))
    out = ["-o", str(run.root)]
    base = ["-c", str(Path(config.out_dir).parent / "cfg.yaml")]
    Path(base[1]).write_text(config_to_yaml(config))
    assert CliRunner().invoke(app, ["data", *base, *out]).exit_code == 0
    assert CliRunner().invoke(app, ["prompts", *out, "--regenerate"]).exit_code == 0
    assert yaml.safe_load(run.config.read_text())["prompts"]["regenerate"] is False
    complete = run.prompts_record.read_bytes()
    table = run.prompts.read_bytes()
    assert json.loads(complete)["status"] == "complete"

    original = prompts_stage.collect_prompts

    def failing(backend, classes, description, rounds, retries, record, on_round_done, **options):
        record.rounds.append({classes[0]: "a half-finished answer"})
        record.save()
        raise PromptsError("the LLM stopped answering")

    monkeypatch.setattr(prompts_stage, "collect_prompts", failing)
    result = CliRunner().invoke(app, ["prompts", *out, "--regenerate"])
    assert result.exit_code == 1 and "stopped answering" in result.output
    assert run.prompts_record.read_bytes() == complete and run.prompts.read_bytes() == table
    assert json.loads(run.prompts_record_pending.read_text())["status"] == "incomplete"

    monkeypatch.setattr(prompts_stage, "collect_prompts", original)
    assert CliRunner().invoke(app, ["prompts", *out, "--regenerate"]).exit_code == 0
    assert not run.prompts_record_pending.exists()
    assert json.loads(run.prompts_record.read_text())["status"] == "complete"
    assert run.prompts_record.read_bytes() != complete  # a new, complete record replaced the old one


def test_evaluate_labels_results_with_the_method_that_made_the_plan(tmp_path):
    ags = build_config({"out_dir": str(tmp_path)})
    assert ags.guidance.strategy == "ags"
    run = claim(tmp_path)
    random = build_config({"out_dir": str(tmp_path)}, ["guidance.strategy=random"])
    # The default backend is the offline template, so the honest labels are template-*, never llm-*.
    assert synthetic_method_label(random, run) == "template-rs"  # no history: the config's own method
    record(run.root, HistoryLine(event="stage", stage="plan", config=recorded_config(ags).model_dump(mode="json")))
    assert synthetic_method_label(random, run) == "template-ags"


_HOLDER = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, sys.argv[2])
    from dalda.ownership import locked
    with locked(sys.argv[1], "dalda generate"):
        print("ready", flush=True)
        time.sleep(60)
    """
)


def test_a_second_process_on_the_same_run_fails_fast_naming_the_first(config):
    run = claim(Path(config.out_dir))
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(run.root), str(SRC)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(RunInUseError, match=rf"is in use by pid {holder.pid} \(started .*dalda generate\); wait"):
            run_pipeline(config, ["data"])
        result = CliRunner().invoke(app, ["data", "-o", str(run.root)])
        assert result.exit_code == 1 and f"pid {holder.pid}" in result.output and "another --out" in result.output
        assert not run.split.exists()
    finally:
        holder.kill()
        holder.wait()
    run_pipeline(config, ["data"])  # the lock dies with its process
    assert run.split.exists()
    with locked(run.root), locked(run.root):  # nested use in one process is fine
        assert json.loads((run.root / ".dalda-run.owner.json").read_text())["pid"] == os.getpid()
    assert not (run.root / ".dalda-run.owner.json").exists()
