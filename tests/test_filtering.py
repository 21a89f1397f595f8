"""The filter stage: decisions follow the thresholds, numbers are cached, training uses only kept images."""

from __future__ import annotations

import pytest

from dalda.artefacts import FilterRecord, ManifestLine
from dalda.config import FilterConfig
from dalda.configure import build_config
from dalda.data.stage import run_data_stage
from dalda.filtering.stage import decide, run_filter_stage
from dalda.generation.stage import run_generate_stage
from dalda.methods import default_stages
from dalda.pipeline import STAGES, prepare_run
from dalda.planning.stage import run_plan_stage
from dalda.training.trainset import load_training_set
from dalda.artefacts import read_split_for


def _config(tmp_path, **filter_values):
    return build_config(
        {
            "out_dir": str(tmp_path / "run"),
            "data": {"dataset": "demo", "root": str(tmp_path / "demo-data"), "shots": 1},
            "models": {"profile": "tiny", "device": "cpu"},
            "prompts": {"source": "base"},
            "guidance": {"strategy": "fixed", "fixed_scale": 0.5},
            "plan": {"images_per_real": 2},
            "generation": {"batch_size": 4},
            "generator": {"steps": 2, "resolution": 32},
            "filter": {"enabled": True, **filter_values},
        }
    )


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("filter")
    config = _config(tmp_path)
    run = prepare_run(config)
    run_data_stage(config, run)
    run_plan_stage(config, run)
    run_generate_stage(config, run)
    return tmp_path, run


def test_filter_is_off_by_default_and_runs_after_generate_when_on(tmp_path):
    assert build_config().filter.enabled is False
    assert "filter" not in default_stages(build_config())
    stages = default_stages(_config(tmp_path))
    assert stages.index("filter") == stages.index("generate") + 1
    assert list(STAGES).index("filter") == list(STAGES).index("generate") + 1


def test_decisions_match_the_thresholds_and_training_uses_kept_images_only(generated):
    tmp_path, run = generated
    scores = None
    for threshold in (0.0, None, 1.0):  # None: the median, so some images on each side
        if threshold is None:
            threshold = sorted(scores)[len(scores) // 2]
        config = _config(tmp_path, min_score=threshold, reject_other_class=False, max_source_similarity=0.5)
        summary = run_filter_stage(config, run)
        records = FilterRecord.read_all(run)
        lines = ManifestLine.read_all(run)
        scores = [record.score for record in records]
        assert [record.file_name for record in records] == [line.file_name for line in lines]
        for record, line in zip(records, lines, strict=True):
            low = record.score < threshold
            near = record.source_similarity > 0.5
            assert record.kept == (not low and not near)
            assert ("low_score" in record.reasons) == low and ("near_copy" in record.reasons) == near
            assert "filter" not in line.extra  # the decisions live in filter.jsonl only
            assert 0.0 <= record.score <= 1.0 and record.top_label is not None
        kept = {line.image_path(run.synthetic) for line, record in zip(lines, records) if record.kept}
        trainset = load_training_set(read_split_for(config.data, run), run)
        assert set(trainset.synthetic_paths) == kept and trainset.skipped.get("rejected_by_filter", 0) == len(lines) - len(kept)
        assert summary.kept == len(kept)
    assert summary.measured == 0  # the later runs only re-decided: every number came from filter.jsonl


def test_other_class_rule(generated):
    record = FilterRecord(
        file_name="a.png", row_id=0, label=1, sha256="x", scorer="softmax", scorer_model="m", score=0.9,
        top_label=2, source_similarity=None, similarity_model=None, kept=True,
    )
    assert decide(record, FilterConfig()).reasons == ["other_class"]
    assert decide(record, FilterConfig(reject_other_class=False)).kept
    assert decide(replace_label(record, 2), FilterConfig()).kept


def replace_label(record, label):
    from dataclasses import replace

    return replace(record, label=label)
