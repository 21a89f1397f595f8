"""The generator registry: config spelling (and the deprecated ``baseline:`` alias), unknown names, settings."""

import warnings

import pytest
import yaml

from dalda.config import ConfigError, config_to_yaml, parse_config
from dalda.configure import build_config, load_config, rebuild
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


def test_each_generator_records_its_own_settings_under_the_keys_earlier_runs_recorded(tiny_config):
    ip_adapter = GENERATORS.get("ip-adapter").manifest_settings(tiny_config)
    assert set(ip_adapter) == {
        "models_profile", "sd_model", "vae", "ip_adapter", "image_encoder", "scheduler", "steps",
        "guidance_scale", "resolution", "resize_to_source", "revisions", "negative_prompt",
    }
    real_guidance = rebuild(tiny_config, {"generator": {"name": "real-guidance"}})
    baseline = GENERATORS.get("real-guidance").manifest_settings(real_guidance)
    assert set(baseline) == set(ip_adapter) - {"ip_adapter", "image_encoder"}  # it loads no IP-Adapter
    assert {key for key in baseline if baseline[key] != ip_adapter[key]} == {"scheduler", "steps", "negative_prompt"}
    fusion_config = rebuild(tiny_config, {"generator": {"name": "da-fusion"}})
    fusion = GENERATORS.get("da-fusion")
    assert fusion.manifest_settings(fusion_config).items() >= baseline.items()
    longer = rebuild(fusion_config, {"generator": {"ti_steps": 3}})
    assert fusion.manifest_settings(longer)["ti_steps"] == 3 != fusion.manifest_settings(fusion_config)["ti_steps"]
