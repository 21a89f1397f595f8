"""Issue 19, item 4: one typed record per run file, the filter never rewrites generate's manifest, one artefact
table, and a stage's needs follow the chosen generator.

- a run with the filter on, run twice with ``dalda run``, regenerates nothing the second time;
- a run made by commit 6cff4a0 (``tests/fixtures/run_made_by_6cff4a0``, copied, never edited) still reads through
  every record type, re-reports, and its manifest lines (with the ``filter`` column of that version) count as done;
- ``real-guidance`` (no prompts, no λ) runs end to end with an LLM backend and no key: ``score`` and ``prompts``
  never run.
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from test_training_support import tiny_run_config
from typer.testing import CliRunner

from dalda import artefacts
from dalda.artefacts import (
    ARTEFACTS,
    JsonLinesRecord,
    JsonRecord,
    ManifestLine,
    MissingArtefactError,
    PlanRow,
    PreparationFailure,
    PromptTable,
)
from dalda.cli import app
from dalda.config import config_to_yaml
from dalda.configure import build_config, load_config
from dalda.generation.manifest import consolidate, manifest_entry
from dalda.generators import GENERATORS
from dalda.ownership import history
from dalda.pipeline import STAGES, run_pipeline, stages_for
from dalda.rundir import RunDir

FIXTURE = Path(__file__).parent / "fixtures" / "run_made_by_6cff4a0"
FIXTURE_ROOT = "/tmp/fixture_run"
"""Where the fixture was made: every absolute path inside it starts here (FIXTURE.md)."""


class _Messages(logging.Handler):
    """Log lines of the ``dalda`` loggers (the CLI resets the root logger's handlers: pytest's caplog misses them)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def dalda_log():
    handler = _Messages()
    logger = logging.getLogger("dalda")
    logger.addHandler(handler)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)


def _write_config(config, path: Path) -> Path:
    path.write_text(config_to_yaml(config))
    return path


def _images(run: RunDir) -> dict[str, int]:
    return {str(path.relative_to(run.synthetic)): path.stat().st_mtime_ns for path in run.synthetic.rglob("*.png")}


@pytest.mark.slow
def test_a_filtered_run_run_again_regenerates_nothing(tmp_path, dalda_log):
    config = tiny_run_config(
        tmp_path,
        train={"classifiers": ["clip"]},
        data={"shots": 1},
        plan={"images_per_real": 2},
        generator={"steps": 2, "resolution": 32},
        filter={"enabled": True, "min_score": 0.2},
    )
    command = ["run", "-c", str(_write_config(config, tmp_path / "config.yaml")), "-o", str(config.out_dir)]
    first = CliRunner().invoke(app, command)
    assert first.exit_code == 0, first.output
    run = RunDir(Path(config.out_dir))
    assert "filter" in [entry.get("stage") for entry in history(run.root)]
    manifest, images = run.manifest.read_bytes(), _images(run)
    assert len(images) == 2 * 5 and b'"filter"' not in manifest  # the filter wrote only filter.jsonl
    dalda_log.clear()

    again = CliRunner().invoke(app, command)
    assert again.exit_code == 0, again.output
    assert run.manifest.read_bytes() == manifest
    assert _images(run) == images  # not one image written again
    assert not [line for line in dalda_log if "dropped" in line]
    assert "generation: 10 planned, 10 done before, 0 generated now" in dalda_log
    stages = [entry["stage"] for entry in history(run.root) if entry["event"] == "stage"]
    assert stages.count("generate") == stages.count("filter") == 2


@pytest.fixture
def fixture_run(tmp_path) -> RunDir:
    """A copy of the run made by 6cff4a0 (its split still names the images under /tmp/fixture_run)."""
    copy = tmp_path / "fixture_run"
    shutil.copytree(FIXTURE, copy)
    (copy / "FIXTURE.md").unlink()  # not dalda's
    return RunDir(copy)


def _fixture_config(run: RunDir):
    return load_config(run.config, [f"out_dir={run.root}"])


def test_every_file_of_the_old_run_reads_through_its_record_and_writes_back_the_same(fixture_run, tmp_path):
    run, config = fixture_run, _fixture_config(fixture_run)
    checked = []
    for artefact in ARTEFACTS:
        for attribute, record in artefact.files:
            value = getattr(run, attribute)
            paths = [value(name) for name in config.train.classifiers] if callable(value) else [value]
            for path in (path for path in paths if record is not None and path.is_file()):
                again = tmp_path / "again" / path.name
                if issubclass(record, JsonLinesRecord):
                    record.write_all(again, record.read_all(path))
                    assert _lines(again) == _lines(path), path
                elif issubclass(record, JsonRecord):
                    record.read(path).write(again)
                    assert json.loads(again.read_text()) == json.loads(path.read_text()), path
                else:  # the checkpoint (a torch file): it holds the training record of _train.json
                    train_json = path.with_name(path.name.replace("_head.pt", "_train.json"))
                    assert record.read(path).record.to_json() == json.loads(train_json.read_text())
                checked.append(path.relative_to(run.root).as_posix())
    assert {"split.json", "scores.jsonl", "prompts.json", "prompts_record.json", "plan.jsonl",
            "synthetic/metadata.jsonl", "synthetic/filter.jsonl", "classes.json", "history.jsonl",
            ".dalda-run.json", "results/clip.json", "results/clip_train.json", "results/clip_head.pt",
            "results/real_only/resnet50.json", "results/real_only/resnet50_train.json",
            "diversity.json"} <= set(checked)  # fmt: skip


def _lines(path: Path) -> list[object]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_every_record_keeps_keys_it_does_not_know_and_names_the_command_of_a_missing_file(fixture_run, tmp_path):
    run, config, empty = fixture_run, _fixture_config(fixture_run), RunDir(tmp_path / "empty")
    classifier = config.train.classifiers[0]
    seen = set()
    for artefact in ARTEFACTS:
        for attribute, record in artefact.files:
            if record is None or not issubclass(record, (JsonRecord, JsonLinesRecord)):
                continue
            seen.add(record)
            where, missing = getattr(run, attribute), getattr(empty, attribute)
            path, missing = (where(classifier), missing(classifier)) if callable(where) else (where, missing)
            with pytest.raises(MissingArtefactError, match=rf"{missing.name}; run `dalda {record.MADE_BY}` first"):
                record.read_all(missing) if issubclass(record, JsonLinesRecord) else record.read(missing)
            if not path.is_file():
                continue
            newer = tmp_path / "newer" / path.name
            if issubclass(record, JsonLinesRecord):
                newer.parent.mkdir(exist_ok=True)
                newer.write_text("".join(json.dumps({**row, "from_a_newer_dalda": [1]}) + "\n" for row in _lines(path)))
                record.write_all(newer, record.read_all(newer))
                assert all(row["from_a_newer_dalda"] == [1] for row in _lines(newer)), path
            else:
                newer.parent.mkdir(exist_ok=True)
                newer.write_text(json.dumps({**json.loads(path.read_text()), "from_a_newer_dalda": [1]}))
                record.read(newer).write(newer)
                assert json.loads(newer.read_text())["from_a_newer_dalda"] == [1], path
    exported = [getattr(artefacts, name) for name in artefacts.__all__]
    json_records = {r for r in exported if isinstance(r, type) and issubclass(r, (JsonRecord, JsonLinesRecord))}
    # every JSON record type is in the artefact table, but the marker a failed preparation share leaves for the
    # other processes while they run (synthetic/.parts/, removed by the next generate)
    assert seen == json_records - {JsonRecord, JsonLinesRecord, PreparationFailure}


def test_the_old_run_re_reports_and_its_filtered_manifest_counts_as_done(fixture_run, dalda_log):
    run = fixture_run
    images = _images(run)
    lines = ManifestLine.read_all(run)
    assert all(line.extra.get("filter") in ("kept", "rejected") for line in lines)  # that version's column

    result = CliRunner().invoke(app, ["report", str(run.root)])
    assert result.exit_code == 0, result.output
    assert (run.report / "index.html").stat().st_size > 0

    config = _fixture_config(run)
    settings = GENERATORS.get(config.generator.name).manifest_settings(config)
    # The plan names the sources where the run was made; relocating a run is another issue (not tested here).
    rows = _relocated_plan(run)
    expected = {row.row_id: manifest_entry(row, settings, run.root) for row in rows}
    done = consolidate(run, expected)
    assert sorted(done) == [row.row_id for row in rows] == list(range(10))
    assert not [line for line in dalda_log if "dropped" in line]
    assert _images(run) == images
    assert [line.file_name for line in ManifestLine.read_all(run)] == [line.file_name for line in lines]


def _relocated_plan(run: RunDir) -> list[PlanRow]:
    """The plan with its sources under the copy: where they were in the run's own folder."""
    rows = PlanRow.read_all(run)
    return [replace(row, source_path=row.source_path.replace(FIXTURE_ROOT, str(run.root))) for row in rows]


def test_a_changed_plan_row_or_setting_still_regenerates(fixture_run):
    """The identity comparison ignores only columns the expected line lacks: a new seed or step count counts."""
    run = fixture_run
    config = _fixture_config(run)
    settings = GENERATORS.get(config.generator.name).manifest_settings(config)
    rows = _relocated_plan(run)
    expected = {row.row_id: manifest_entry(row, settings, run.root) for row in rows}
    expected[0] = manifest_entry(replace(rows[0], seed=rows[0].seed + 1), settings, run.root)
    expected[1] = manifest_entry(rows[1], {**settings, "steps": settings["steps"] + 1}, run.root)
    assert sorted(consolidate(run, expected)) == list(range(2, 10))


def _needs(config) -> dict[str, tuple[str, ...]]:
    return {name: stage.needs(config) for name, stage in STAGES.items()}


def test_stage_needs_and_the_default_stages_follow_the_generator(tmp_path):
    dalda = build_config({"prompts": {"source": "llm"}, "guidance": {"strategy": "ags"}})
    assert stages_for(dalda) == ["data", "score", "prompts", "plan", "generate", "train", "evaluate", "report"]
    assert _needs(dalda)["plan"] == ("split", "scores", "prompts")

    random = build_config({"prompts": {"source": "llm"}, "guidance": {"strategy": "random"}})  # llm-rs
    # RS draws λ without the scores: they are made (the report plots λ against them) but the plan can do without
    assert "score" in stages_for(random) and _needs(random)["plan"] == ("split", "prompts")
    base = build_config({"prompts": {"source": "base"}, "guidance": {"strategy": "ags"}})  # base-ags
    assert "prompts" not in stages_for(base) and _needs(base)["plan"] == ("split", "scores")
    for name in ("real-guidance", "da-fusion"):  # no λ, no prompts: whatever the prompts and guidance say
        baseline = build_config({"generator": {"name": name}, "prompts": {"source": "llm"}})
        assert stages_for(baseline) == ["data", "plan", "generate", "train", "evaluate", "report"]
        assert _needs(baseline)["plan"] == ("split",)
    real_only = build_config({"train": {"synthetic_probability": 0.0}})
    assert stages_for(real_only) == ["data", "train", "evaluate", "report"]

    run = RunDir(tmp_path / "run")
    run_pipeline(tiny_run_config(tmp_path, generator={"name": "real-guidance"}), ["data"])
    with pytest.raises(FileNotFoundError, match=r"stage plan needs the scores .*scores.jsonl is missing.*dalda score"):
        run_pipeline(tiny_run_config(tmp_path), ["plan"])
    assert not run.plan.exists()


@pytest.mark.slow
def test_real_guidance_with_an_llm_backend_and_no_key_never_asks_for_prompts_or_scores(tmp_path, monkeypatch):
    monkeypatch.delenv("DALDA_TEST_NO_SUCH_KEY", raising=False)
    config = tiny_run_config(
        tmp_path,
        train={"classifiers": ["clip"]},
        data={"shots": 1},
        generator={"name": "real-guidance", "steps": 2, "resolution": 32},
        prompts={"source": "llm", "backend": "openai", "api_key_env": "DALDA_TEST_NO_SUCH_KEY"},
        plan={"images_per_real": 1},
    )
    path = _write_config(config, tmp_path / "config.yaml")
    out = ["-c", str(path), "-o", str(config.out_dir)]
    run = RunDir(Path(config.out_dir))

    result = CliRunner().invoke(app, ["run", *out])
    assert result.exit_code == 0, result.output
    ran = [entry["stage"] for entry in history(run.root) if entry["event"] == "stage"]
    assert ran == ["data", "plan", "generate", "train", "evaluate", "report"]
    assert not run.scores.exists() and not run.prompts.exists() and not run.prompts_record.exists()
    assert len(ManifestLine.read_all(run)) == 5 and json.loads(run.result_file("clip").read_text())["method"] == (
        "real-guidance"
    )
    assert yaml.safe_load(run.config.read_text())["prompts"]["backend"] == "openai"

    asked = CliRunner().invoke(app, ["prompts", "-o", str(run.root)])  # what the run never did: it needs a key
    assert asked.exit_code != 0 and "DALDA_TEST_NO_SUCH_KEY" in asked.output
    with pytest.raises(MissingArtefactError, match="run `dalda prompts` first"):
        PromptTable.read(run)
