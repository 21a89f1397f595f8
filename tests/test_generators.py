"""The generator registry: config spelling (and the deprecated ``baseline:`` alias), unknown names, settings."""

import warnings

import pytest
import yaml

from dalda.config import ConfigError, config_to_yaml, parse_config
from dalda.configure import build_config, load_config
from dalda.generators import GENERATORS
from dalda.pipeline import prepare_run
from dalda.planning.stage import run_plan_stage


def test_old_baseline_spelling_still_works_and_warns(tmp_path):
    with pytest.warns(DeprecationWarning) as caught:
        config = build_config(overrides=["baseline.generator=da-fusion", "baseline.ti_steps=7"])
    assert len(caught) == 1  # one warning per config, naming every old spelling
    assert "-s baseline is now generator (and baseline.generator is generator.name)" in str(caught[0].message)
    assert (config.generator.name, config.generator.ti_steps) == ("da-fusion", 7)

    old_run = yaml.safe_load(config_to_yaml(build_config()))  # a run directory's config.yaml before the rename
    old_run["baseline"] = {"generator": "real-guidance", **old_run.pop("generator")}
    old_run["baseline"].pop("name")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(old_run))
    with pytest.warns(DeprecationWarning, match="baseline is now generator"):
        loaded = load_config(path)
    assert loaded.generator.name == "real-guidance"
    with pytest.warns(DeprecationWarning):  # an override wins over the file, in either spelling
        assert load_config(path, ["generator.name=da-fusion"]).generator.name == "da-fusion"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert build_config(overrides=["generator.name=da-fusion"]).generator.name == "da-fusion"


def test_an_unknown_generator_fails_up_front_and_in_the_plan_stage_naming_the_choices(tiny_config):
    values = {**tiny_config.model_dump(mode="json"), "generator": {"name": "nope"}}
    choices = r"generator.name='nope' is not a known generator; choose one of \["
    with pytest.raises(ConfigError, match=choices):
        build_config(values)  # dalda.configure checks the name against the registry before any work
    config = parse_config(values)  # the schema alone accepts any name: a stage still fails clearly
    with pytest.raises(ValueError, match=choices):
        run_plan_stage(config, prepare_run(config))


def test_da_fusion_records_its_textual_inversion_settings_and_the_others_keep_their_keys(tiny_config):
    ip_adapter = GENERATORS.get("ip-adapter").manifest_settings(tiny_config)
    assert set(ip_adapter) == {
        "models_profile", "sd_model", "vae", "ip_adapter", "image_encoder", "scheduler", "steps",
        "guidance_scale", "resolution", "resize_to_source", "revisions", "negative_prompt",
    }
    baseline = GENERATORS.get("real-guidance").manifest_settings(tiny_config)
    assert set(baseline) == set(ip_adapter)  # the baselines differ in their sampler and negative prompt only
    assert {key for key in ip_adapter if baseline[key] != ip_adapter[key]} == {"scheduler", "steps", "negative_prompt"}
    fusion = GENERATORS.get("da-fusion")
    assert fusion.manifest_settings(tiny_config).items() >= baseline.items()
    longer = tiny_config.model_copy(update={"generator": tiny_config.generator.model_copy(update={"ti_steps": 3})})
    assert fusion.manifest_settings(longer)["ti_steps"] == 3 != fusion.manifest_settings(tiny_config)["ti_steps"]
