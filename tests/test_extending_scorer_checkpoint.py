"""A scorer with its own checkpoint is one entry file: a second SigLIP size (``tests/siglip_large.py``, a
:class:`~dalda.scorers.SiglipScorer` with a settings model of its own) is registered here and runs the real score
and filter stages under the ``real`` profile, each loading the tiny SigLIP saved in the published folder layout
at the local path its section's ``model`` setting names."""

from __future__ import annotations

from pathlib import Path

import pytest
from siglip_large import SIGLIP_LARGE
from tiny_checkpoints import write_tiny_siglip

import dalda
from dalda.artefacts import FilterRecord
from dalda.config import ModelsConfig
from dalda.configure import ConfigError, build_config, rebuild
from dalda.data.stage import run_data_stage
from dalda.filtering.stage import run_filter_stage
from dalda.generation.stage import run_generate_stage
from dalda.io import read_jsonl
from dalda.models import ModelLoadError
from dalda.pipeline import prepare_run
from dalda.planning.stage import run_plan_stage
from dalda.scorers import SCORERS, chosen_scorer
from dalda.scoring.stage import run_score_stage


def _values(tmp_path: Path, **sections: dict) -> dict:
    return {
        "out_dir": str(tmp_path / "run"),
        "data": {"dataset": "demo", "root": str(tmp_path / "demo-data"), "shots": 1},
        "prompts": {"source": "base"},
        "guidance": {"strategy": "fixed", "fixed_scale": 0.5},
        "plan": {"images_per_real": 2},
        "generation": {"batch_size": 4},
        "generator": {"steps": 2, "resolution": 32},
        **sections,
    }


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A run whose synthetic images were made by the tiny models (the filter stage's input)."""
    tmp_path = tmp_path_factory.mktemp("siglip-large")
    config = build_config(_values(tmp_path, models={"profile": "tiny", "device": "cpu"}))
    run = prepare_run(config)
    run_data_stage(config, run)
    run_plan_stage(config, run)
    run_generate_stage(config, run)
    return tmp_path, run


@pytest.fixture
def siglip_large():
    SCORERS.register("siglip-large", SIGLIP_LARGE)
    yield SIGLIP_LARGE
    SCORERS.unregister("siglip-large")


def test_the_entry_brings_its_own_checkpoint_as_a_setting(siglip_large):
    config = build_config(overrides=["score.variant=siglip-large", "filter.scorer=siglip-large"])
    assert config.score.entry_values() == config.filter.entry_values() == {"model": "google/siglip-large-patch16-384"}
    real = ModelsConfig(profile="real")
    assert chosen_scorer(config, "score").identity(real) == "siglip:google/siglip-large-patch16-384"
    assert chosen_scorer(build_config(overrides=["score.variant=siglip"]), "score").identity(real) == (
        "siglip:google/siglip-base-patch16-224"  # the built-in size keeps its own default
    )
    offline = build_config(overrides=["score.variant=siglip-large", "models.offline=true", "models.device=cpu"])
    with pytest.raises(ModelLoadError, match=r"score\.model='google/siglip-large-patch16-384'"):
        chosen_scorer(offline, "score").load(offline.models, ["cat"], "a photo of a {}")


def test_score_and_filter_stages_load_each_sections_checkpoint_through_the_real_profile(siglip_large, generated):
    tmp_path, run = generated
    for_score = write_tiny_siglip(tmp_path / "checkpoints" / "for-score")
    for_filter = write_tiny_siglip(tmp_path / "checkpoints" / "for-filter")
    config = build_config(
        _values(
            tmp_path,
            models={"profile": "real", "offline": True, "device": "cpu"},
            score={"variant": "siglip-large", "model": str(for_score)},
            filter={"enabled": True, "scorer": "siglip-large", "model": str(for_filter), "min_score": 0.0,
                    "reject_other_class": False},
        )
    )  # fmt: skip

    scores = run_score_stage(config, run)
    rows = read_jsonl(run.scores)
    assert len(rows) == len(scores) > 0
    assert {row["clip_model"] for row in rows} == {f"siglip:{for_score}"}  # the checkpoint's identity
    assert all(0.0 <= row["score"] <= 1.0 and row["score"] == row["siglip_softmax"] for row in rows)

    summary = run_filter_stage(config, run)
    records = FilterRecord.read_all(run)
    assert summary.measured == len(records) > 0 and summary.kept == len(records)
    assert {(record.scorer, record.scorer_model) for record in records} == {("siglip-large", f"siglip:{for_filter}")}

    again = run_filter_stage(config, run)
    assert again.measured == 0  # cached under that identity
    other_checkpoint = rebuild(config, {"filter": {"model": str(for_score)}})
    assert run_filter_stage(other_checkpoint, run).measured == len(records)  # measured again


def test_nothing_else_in_dalda_was_edited_for_it():
    package = Path(dalda.__file__).parent
    assert [path for path in package.rglob("*.py") if "siglip-large" in path.read_text()] == []
    assert "siglip-large" not in SCORERS
    with pytest.raises(ConfigError, match=r"score\.variant='siglip-large' is not a known alignment scorer"):
        build_config(overrides=["score.variant=siglip-large"])
