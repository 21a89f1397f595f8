"""The typed run directory: every file the stages write reads into its dataclass and writes back byte for byte;
a stage's missing input is one clear error naming the command to run; the pipeline checks needs up front."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from test_training_support import tiny_run_config

from dalda.artefacts import (
    CellInfo,
    ClassNames,
    Checkpoint,
    ClassifierResult,
    DiversityReport,
    HistoryLine,
    ManifestLine,
    MissingArtefactError,
    PlanRow,
    PromptsRecord,
    PromptTable,
    RunMarker,
    ScoreRecord,
    Split,
    TrainingRecord,
)
from dalda.evaluation.stage import run_evaluate_stage
from dalda.pipeline import run_pipeline
from dalda.rundir import RunDir


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> RunDir:
    """The demo stages once (data to evaluate) with tiny models, as today's stages write them."""
    config = tiny_run_config(
        tmp_path_factory.mktemp("artefacts"),
        plan={"images_per_real": 1},
        prompts={"source": "llm", "backend": "template", "num_prompts": 2},
        generator={"steps": 2, "resolution": 64},
    )
    run = run_pipeline(config, ["data", "score", "prompts", "plan", "generate", "train", "evaluate"])
    CellInfo("grid", "demo", "dalda", 2, 0).write(run)
    return run


def _same_bytes_after(path, read, write) -> None:
    before = path.read_bytes()
    record = read(path)
    path.unlink()
    write(record, path)
    assert path.read_bytes() == before


def test_every_json_artefact_round_trips_byte_for_byte(finished_run):
    run = finished_run
    _same_bytes_after(run.split, Split.read, lambda split, path: split.write(path))
    _same_bytes_after(run.scores, ScoreRecord.read_all, lambda rows, path: ScoreRecord.write_all(path, rows))
    _same_bytes_after(run.prompts, PromptTable.read, lambda table, path: table.write(path))
    _same_bytes_after(run.prompts_record, PromptsRecord.read, lambda record, path: record.write(path))
    _same_bytes_after(run.plan, PlanRow.read_all, lambda rows, path: PlanRow.write_all(path, rows))
    _same_bytes_after(run.manifest, ManifestLine.read_all, lambda rows, path: ManifestLine.write_all(path, rows))
    _same_bytes_after(run.diversity, DiversityReport.read, lambda report, path: report.write(path))
    _same_bytes_after(run.cell, CellInfo.read, lambda cell, path: cell.write(path))
    _same_bytes_after(run.classes, ClassNames.read, lambda names, path: names.write(path))
    _same_bytes_after(run.marker, RunMarker.read, lambda marker, path: marker.write(path))
    _same_bytes_after(run.history, HistoryLine.read_all, lambda lines, path: HistoryLine.write_all(path, lines))
    for classifier in ("resnet50", "clip"):
        path = run.result_file(classifier)
        _same_bytes_after(path, ClassifierResult.read, lambda result, target: result.write(target))
        path = run.train_record_file(classifier)
        _same_bytes_after(path, TrainingRecord.read, lambda record, target: record.write(target))


def test_typed_fields_match_the_files(finished_run):
    run = finished_run
    split, plan, manifest = Split.read(run), PlanRow.read_all(run), ManifestLine.read_all(run)
    assert len(plan) == len(manifest) == len(split.train)
    assert {str(line.source_file(run.root).resolve()) for line in manifest} == {str(r.path) for r in split.train}
    assert not any(Path(line.source_path).is_absolute() for line in manifest)  # relative: the run can move
    assert ClassNames.read(run.classes).names == split.classes == ClassNames.read(run.synthetic / "classes.json").names
    assert all(line.image_path(run.synthetic).is_file() and line.extra["steps"] == 2 for line in manifest)
    assert [score.path for score in ScoreRecord.read_all(run)] == [str(record.path) for record in split.train]
    assert sorted(PromptTable.read(run).prompts) == sorted(split.classes)
    assert PromptsRecord.read(run).status == "complete"
    result = ClassifierResult.read(run.result_file("clip"))
    assert (result.classifier, result.dataset, result.classes, result.extra) == ("clip", "demo", split.classes, {})
    assert result.diversity["clip_i"] == DiversityReport.read(run).clip_i
    assert CellInfo.read_optional(run) == CellInfo("grid", "demo", "dalda", 2, 0)


def test_checkpoint_round_trips(finished_run, tmp_path):
    checkpoint = Checkpoint.read(finished_run.checkpoint_file("clip"))
    assert checkpoint.classes == Split.read(finished_run).classes and checkpoint.backbone is None
    checkpoint.write(tmp_path / "again.pt")
    again = Checkpoint.read(tmp_path / "again.pt")
    assert again.record == checkpoint.record and again.backbone_identity == checkpoint.backbone_identity
    assert all(torch.equal(again.head[key], value) for key, value in checkpoint.head.items())


def test_missing_inputs_name_the_command_to_run(tmp_path):
    run = RunDir(tmp_path)
    expected = {
        lambda: Split.read(run): "no split at .*split.json; run `dalda data` first",
        lambda: ScoreRecord.read_all(run): "run `dalda score` first",
        lambda: PromptTable.read(run): "run `dalda prompts` first",
        lambda: PlanRow.read_all(run): "no plan at .*plan.jsonl; run `dalda plan` first",
        lambda: ManifestLine.read_all(run): "run `dalda generate` first",
        lambda: Checkpoint.read(run.checkpoint_file("clip")): "no trained classifier .*; run `dalda train` first",
        lambda: ClassifierResult.read(run.result_file("clip")): "run `dalda evaluate` first",
        lambda: DiversityReport.read(run): "run `dalda evaluate` first",
    }
    for read, message in expected.items():
        with pytest.raises(MissingArtefactError, match=message):
            read()
    assert CellInfo.read_optional(run) is None


def test_a_lone_evaluate_does_not_draw_a_split(tmp_path):
    config = tiny_run_config(tmp_path)
    run = RunDir(config.out_dir).ensure()
    with pytest.raises(MissingArtefactError, match="split.json; run `dalda data` first"):
        run_evaluate_stage(config, run)
    with pytest.raises(FileNotFoundError, match="stage evaluate needs the split .*; run `dalda data` first"):
        run_pipeline(config, ["evaluate"])
    assert not run.split.exists()


def test_pipeline_checks_needs_before_starting(tmp_path):
    config = tiny_run_config(tmp_path)
    with pytest.raises(FileNotFoundError, match="stage evaluate needs the trained classifiers .*; run `dalda train`"):
        run_pipeline(config, ["data", "evaluate"])
    assert not RunDir(config.out_dir).split.exists()  # nothing ran: the check comes first
    with pytest.raises(FileNotFoundError, match="stage generate needs the plan .*; run `dalda plan` first"):
        run_pipeline(config, ["data", "score", "generate"])
