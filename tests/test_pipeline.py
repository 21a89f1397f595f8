"""Stage selection: `dalda run` runs every stage, except synthesis for a real-images-only run."""

import pytest

from dalda.configure import build_config
from dalda.methods import default_stages
from dalda.pipeline import STAGES, run_pipeline


def test_default_stages():
    assert default_stages(build_config()) == [name for name in STAGES if name != "filter"]  # filter: opt-in
    with_filter = default_stages(build_config(overrides=["filter.enabled=true"]))
    assert with_filter == list(STAGES)
    real_only = default_stages(build_config(overrides=["train.synthetic_probability=0"]))
    assert real_only == ["data", "train", "evaluate", "report"]


def test_unknown_stage_is_an_error_naming_it(tmp_path):
    with pytest.raises(ValueError, match="generat"):
        run_pipeline(build_config(overrides=[f"out_dir={tmp_path}"]), ["generat"])
