"""Entries own their settings: the config chooses an entry, its settings sit beside the choice, dalda.configure
validates them with the entry's own model, resolves them into config.yaml, and reads old spellings."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pytest
import yaml
from pydantic import Field

from dalda.chat import CHAT_BACKENDS
from dalda.config import ConfigError, config_to_yaml
from dalda.configure import build_config, load_config, rebuild
from dalda.datasets import DATASETS
from dalda.generators import GENERATORS
from dalda.guidance import GUIDANCE
from dalda.guidance.fixed import FIXED
from dalda.metrics import FIDELITY_FEATURES, METRICS
from dalda.registry import Registry
from dalda.scorers import SCORERS
from dalda.scorers.clip import SOFTMAX
from dalda.settings import EntrySettings


class ToySettings(EntrySettings):
    label: str = Field("none", description="a string setting")
    size: int = Field(3, ge=1, description="a number setting")


@dataclass(frozen=True)
class ToyScorer:
    """The softmax scorer with a setting model of its own (what an entry with its own checkpoint looks like)."""

    name: str = "toy-settings"
    title: str = "toy"
    default_alpha: float = 0.3
    settings_model: type[ToySettings] = ToySettings

    def identity(self, models, settings):
        return SOFTMAX.identity(models, SOFTMAX.settings_model())

    def load(self, models, settings, classes, template, section):
        return SOFTMAX.load(models, SOFTMAX.settings_model(), classes, template, section)

    def value(self, measures):
        return SOFTMAX.value(measures)


@pytest.fixture
def toy_scorer():
    SCORERS.register("toy-settings", ToyScorer())
    yield
    SCORERS.unregister("toy-settings")


def test_the_chosen_entrys_settings_are_resolved_into_the_config_and_its_yaml(toy_scorer, tmp_path):
    config = build_config(overrides=["score.variant=toy-settings", "score.label=0123", "score.size=0042"])
    assert config.score.entry_values() == {"label": "0123", "size": 42}  # typed by the entry's own fields
    assert ToySettings.of(config.score) == ToySettings(label="0123", size=42)
    recorded = yaml.safe_load(config_to_yaml(config))["score"]
    assert recorded == {"variant": "toy-settings", "template": "a photo of a {}", "batch_size": 32,
                        "label": "0123", "size": 42}  # fmt: skip
    path = tmp_path / "config.yaml"
    path.write_text(config_to_yaml(config))
    assert load_config(path) == config  # the record round-trips
    defaults = build_config(overrides=["score.variant=toy-settings"])
    assert defaults.score.entry_values() == {"label": "none", "size": 3}  # every setting, defaults included


def test_bad_settings_name_the_field_the_entry_and_what_exists(toy_scorer):
    with pytest.raises(ConfigError, match=r"score\.size: Input should be greater than or equal to 1"):
        build_config(overrides=["score.variant=toy-settings", "score.size=0"])
    with pytest.raises(ConfigError, match=r"score\.sise is not a field of score nor a setting of "
                                          r"score\.variant=toy-settings \(its settings: \['label', 'size'\]\)"):
        build_config(overrides=["score.variant=toy-settings", "score.sise=2"])
    with pytest.raises(ConfigError, match=r"score\.size is a setting of score\.variant=toy-settings, not of softmax"):
        build_config(overrides=["score.size=2"])  # an override for an entry the config does not choose


def test_a_files_settings_for_another_entry_are_not_used_and_named(toy_scorer, caplog):
    with caplog.at_level(logging.WARNING, logger="dalda.configure"):
        config = build_config({"score": {"variant": "softmax", "size": 5}})
    assert config.score.entry_values() == {}
    assert "score.size=5 belongs to score.variant=toy-settings, not softmax: not used" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="dalda.configure"):
        build_config({"score": {"variant": "softmax", "size": 3}})  # the other entry's default: says nothing
    assert "not used" not in caplog.text


def test_choosing_another_entry_starts_from_its_defaults(toy_scorer, tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(config_to_yaml(build_config(overrides=["guidance.strategy=fixed", "guidance.fixed_scale=0.2"])))
    switched = load_config(path, ["guidance.strategy=random"])
    assert switched.guidance.entry_values() == {"random_min": 0.0, "random_max": 1.0}
    kept = load_config(path, ["guidance.strategy=fixed"])  # the same choice keeps the file's settings
    assert kept.guidance.fixed_scale == 0.2
    derived = rebuild(kept, {"guidance": {"strategy": "ags"}})
    assert derived.guidance.strategy == "ags" and "fixed_scale" not in derived.guidance.entry_values()


def test_a_setting_that_shadows_a_section_field_is_refused(tmp_path):
    class Shadowing(EntrySettings):
        batch_size: int = 4

    @dataclass(frozen=True)
    class ShadowScorer(ToyScorer):
        name: str = "shadow"
        settings_model: type[EntrySettings] = Shadowing

    SCORERS.register("shadow", ShadowScorer())
    try:
        with pytest.raises(ConfigError, match=r"alignment scorer 'shadow' declares settings \['batch_size'\] "
                                              r"that are fields of score"):
            build_config(overrides=["score.variant=shadow"])
    finally:
        SCORERS.unregister("shadow")


def test_a_malformed_settings_model_fails_at_registration():
    @dataclass(frozen=True)
    class Broken:
        settings_model: object = dict

    with pytest.raises(TypeError, match="settings_model must be a subclass of dalda.settings.EntrySettings"):
        Registry[object]("toy").register("broken", Broken())


def test_probe_settings_live_in_a_table_keyed_by_the_chosen_classifiers():
    config = build_config(overrides=["train.classifiers=[clip]", "train.probes.clip.lr=0.01"])
    assert config.train.probes == {"clip": {"lr": 0.01, "weight_decay": 0.1, "template": "a photo of a {}"}}
    with pytest.raises(ConfigError, match=r"train\.probes\.resnet50 sets a classifier that train\.classifiers does "
                                          r"not choose"):
        build_config(overrides=["train.classifiers=[clip]", "train.probes.resnet50.lr=0.1"])
    with pytest.raises(ConfigError, match=r"train\.probes\.clip\.lr: Input should be greater than 0"):
        build_config(overrides=["train.probes.clip.lr=0"])
    with pytest.raises(ConfigError, match=r"train\.probes\.nope: 'nope' is not a known classifier"):
        build_config({"train": {"probes": {"nope": {}}}})


@pytest.mark.parametrize(
    ("old", "new", "value"),
    [("train.resnet_lr", ("train", "probes", "resnet50", "lr"), 0.03),
     ("train.clip_template", ("train", "probes", "clip", "template"), "an image of a {}"),
     ("evaluate.lpips", ("evaluate", "metrics", "lpips", "enabled"), False),
     ("evaluate.lpips_size", ("evaluate", "metrics", "lpips", "size"), 128),
     ("evaluate.kid_subset_size", ("evaluate", "metrics", "kid", "subset_size"), 20),
     ("evaluate.fidelity_features", ("evaluate", "fidelity", "features"), "clip"),
     ("evaluate.fidelity_max_images", ("evaluate", "fidelity", "max_images"), 50)],
)
def test_old_spellings_load_with_one_deprecation_warning(old, new, value, tmp_path):
    section, field = old.split(".")
    path = tmp_path / "old.yaml"
    path.write_text(yaml.safe_dump({section: {field: value}}))
    for load in (lambda: load_config(path), lambda: build_config(overrides=[f"{old}={value}"])):
        with pytest.warns(DeprecationWarning, match=f"{old} is now {'.'.join(new)}") as caught:
            config = load()
        assert len(caught) == 1
        node = config
        for part in new:
            node = node[part] if isinstance(node, dict) else getattr(node, part)
        assert node == value


def test_every_registered_entrys_settings_have_descriptions_and_valid_defaults():
    """What the configuration reference is generated from: each setting documented, each default valid."""
    for registry in (GUIDANCE, SCORERS, METRICS, FIDELITY_FEATURES, CHAT_BACKENDS, DATASETS, GENERATORS):
        for name in registry:
            model = registry.settings_model(name)
            model()  # the defaults validate
            for field, info in model.model_fields.items():
                assert info.description, f"{registry.kind} {name}: setting {field} has no description"
    assert GUIDANCE.get("fixed") is FIXED
    assert all("enabled" in METRICS.settings_model(name).model_fields for name in METRICS)
