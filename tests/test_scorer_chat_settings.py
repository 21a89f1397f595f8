"""Scorers, chat backends and datasets own their settings: a scorer's checkpoint sits beside the section that
chooses it (``score:`` or ``filter:``), a backend's settings beside ``prompts.backend``; old configs load through
``dalda.configure.RENAMES``, and caches made before (scores, filter decisions, prompts records) stay valid."""

from __future__ import annotations

import ast
import json
import logging
from pathlib import Path

import pytest
import yaml

import dalda
from dalda.artefacts import ScoreRecord
from dalda.chat import CHAT_BACKENDS, OpenAISettings, TransformersSettings, backend_settings, key_variables
from dalda.config import DaldaConfig, ModelsConfig, PromptsConfig
from dalda.configure import ConfigError, build_config, load_config
from dalda.prompts.stage import stage_settings
from dalda.scorers import SiglipSettings, VqaSettings, chosen_scorer

OLD_RUN = Path(__file__).parent / "fixtures" / "run_made_by_6cff4a0"
CLASSES = ["cat", "dog"]


def _old_config(tmp_path: Path, **sections: dict) -> Path:
    """The fixture's config.yaml (written before the entries owned these settings) with some sections edited."""
    values = yaml.safe_load((OLD_RUN / "config.yaml").read_text())
    for section, edits in sections.items():
        values[section].update(edits)
    path = tmp_path / "old.yaml"
    path.write_text(yaml.safe_dump(values))
    return path


def test_no_scorer_or_backend_specific_field_is_left_in_the_central_config():
    assert {"siglip_model", "vqa_model"}.isdisjoint(ModelsConfig.model_fields)
    assert set(PromptsConfig.model_fields) == {
        "source", "backend", "num_prompts", "base_template", "prefix", "temperature", "top_p", "max_retries",
        "prompts_file", "regenerate", "validation",
    }  # fmt: skip
    assert set(OpenAISettings.model_fields) == {
        "model", "base_url", "api_type", "api_version", "api_key_env", "api_key_required", "json_mode",
        "frequency_penalty", "presence_penalty", "timeout_s", "network_retries", "backoff_base_s", "backoff_max_s",
        "max_response_mb",
    }  # fmt: skip
    assert set(TransformersSettings.model_fields) == {"hf_model", "max_new_tokens"}


@pytest.mark.parametrize(("scorer", "settings"), [("siglip", SiglipSettings), ("vqa", VqaSettings)])
def test_an_old_scorer_checkpoint_goes_to_every_section_that_chooses_that_scorer(scorer, settings, tmp_path):
    old, default = f"models.{scorer}_model", settings().model
    cases = [  # (score.variant, filter.scorer) -> sections that get the checkpoint
        ((scorer, "softmax"), ["score"]),
        (("softmax", scorer), ["filter"]),
        ((scorer, scorer), ["score", "filter"]),
    ]
    for (variant, filter_scorer), sections in cases:
        path = _old_config(tmp_path, models={f"{scorer}_model": "/ckpt/mine"},
                           score={"variant": variant}, filter={"scorer": filter_scorer})  # fmt: skip
        with pytest.warns(DeprecationWarning, match=rf"{old} is now score\.model / filter\.model") as caught:
            config = load_config(path)
        assert len(caught) == 1 and "value dropped" not in str(caught[0].message)
        for section in ("score", "filter"):
            expected = "/ckpt/mine" if section in sections else None
            assert getattr(config, section).entry_values().get("model") == expected
            if section in sections:
                assert chosen_scorer(config, section).identity(config.models) == f"tiny-random:{scorer}:/ckpt/mine"

    # the scorer chosen in the file counts for an old spelling given as an override, too
    path = _old_config(tmp_path, score={"variant": scorer})
    with pytest.warns(DeprecationWarning, match=rf"-s {old} is now"):
        config = load_config(path, [f"{old}=/ckpt/override"])
    assert config.score.entry_values() == {"model": "/ckpt/override"} and config.score.variant == scorer
    with pytest.warns(DeprecationWarning, match=rf"-s {old} is now"):
        config = build_config(overrides=[f"score.variant={scorer}", f"{old}=/ckpt/override"])
    assert config.score.entry_values() == {"model": "/ckpt/override"}
    with pytest.warns(DeprecationWarning):  # the file's choices are read, never written into the overrides
        config = load_config(path, ["baseline.generator=da-fusion"])
    assert config.generator.name == "da-fusion"

    # nobody chooses the scorer: its default checkpoint is no loss, another one is named as dropped
    with pytest.warns(DeprecationWarning) as caught:
        load_config(_old_config(tmp_path, models={f"{scorer}_model": default}))
    assert "value dropped" not in str(caught[0].message)
    with pytest.warns(DeprecationWarning, match=rf"{old} is now .* \(value dropped\)"):
        load_config(_old_config(tmp_path, models={f"{scorer}_model": "/ckpt/mine"}))


def test_the_new_spelling_wins_over_the_old_one():
    values = {"models": {"siglip_model": "/old"}, "score": {"variant": "siglip", "model": "/new"}}
    with pytest.warns(DeprecationWarning):
        assert build_config(values).score.entry_values() == {"model": "/new"}


def test_the_filter_has_its_own_scorer_settings():
    config = build_config(overrides=["score.variant=siglip", "score.model=/a", "filter.scorer=siglip",
                                     "filter.model=/b"])  # fmt: skip
    assert chosen_scorer(config, "score").settings == SiglipSettings(model="/a")
    assert chosen_scorer(config, "filter").settings == SiglipSettings(model="/b")
    config = build_config(overrides=["score.variant=vqa", "filter.scorer=siglip"])
    assert chosen_scorer(config, "score").settings == VqaSettings()
    assert chosen_scorer(config, "filter").settings == SiglipSettings()
    with pytest.raises(ConfigError, match=r"filter\.model is a setting of filter\.scorer=siglip or vqa, not of "
                                          r"softmax"):  # fmt: skip
        build_config(overrides=["score.variant=siglip", "filter.model=/b"])


def test_the_old_run_still_loads_and_its_caches_are_still_its_own():
    with pytest.warns(DeprecationWarning):
        config = load_config(OLD_RUN / "config.yaml")
    assert config.prompts.entry_values() == {}  # the template backend has no settings; the rest were defaults
    assert config.score.entry_values() == {} and config.filter.entry_values() == {}
    identity = chosen_scorer(config, "score").identity(config.models)
    assert {record.clip_model for record in ScoreRecord.read_all(OLD_RUN / "scores.jsonl")} == {identity}
    record = json.loads((OLD_RUN / "prompts_record.json").read_text())
    assert stage_settings(config, record["settings"]["classes"]) == record["settings"]


# What dalda wrote into prompts_record.json before the backends owned their settings (made by main at f580cdc
# with these overrides): a record like these must still count as made under the same settings.
OLD_RECORDS = [
    (["prompts.backend=openai", "prompts.base_url=http://localhost:8000/v1", "prompts.model=my-model",
      "prompts.json_mode=true"],
     {"model": "my-model", "parameters": {"api_type": "openai", "base_url": "http://localhost:8000/v1",
      "api_version": None, "temperature": 1.0, "top_p": 1.0, "frequency_penalty": 0.0, "presence_penalty": 0.0,
      "json_mode": True, "api_key_env": "OPENAI_API_KEY"}}),
    (["prompts.backend=transformers", "prompts.max_new_tokens=64", "models.profile=tiny"],
     {"model": "tiny-random-llama", "parameters": {"profile": "tiny", "temperature": 1.0, "top_p": 1.0,
      "max_new_tokens": 64, "seed": 0}}),
    (["prompts.backend=transformers", "prompts.hf_model=some/lm"],
     {"model": "some/lm", "parameters": {"profile": "real", "temperature": 1.0, "top_p": 1.0,
      "max_new_tokens": 4096, "seed": 0}}),
]  # fmt: skip


@pytest.mark.parametrize(("overrides", "recorded"), OLD_RECORDS)
def test_prompts_records_made_before_keep_matching(overrides, recorded):
    config = build_config(overrides=overrides)
    settings = stage_settings(config, CLASSES)
    assert {key: settings[key] for key in ("model", "parameters")} == recorded
    backend = config.prompts.backend
    assert CHAT_BACKENDS.get(backend).fingerprint(config, backend_settings(config)) == recorded


def test_backend_settings_sit_flat_beside_the_backend_and_keep_their_validators(caplog):
    config = build_config(overrides=["prompts.backend=openai", "prompts.model=gpt-4o", "prompts.timeout_s=5"])
    assert backend_settings(config) == OpenAISettings(model="gpt-4o", timeout_s=5.0)
    assert key_variables(config) == ("OPENAI_API_KEY",)
    assert key_variables(build_config()) == ()  # the template backend sends no secret
    with pytest.raises(ConfigError, match=r"prompts\.model is a setting of prompts\.backend=openai, not of "
                                          r"template"):  # fmt: skip
        build_config(overrides=["prompts.model=gpt-4o"])
    with pytest.raises(ConfigError, match=r"prompts\.max_new_tokens is a setting of prompts\.backend=transformers"):
        build_config(overrides=["prompts.backend=openai", "prompts.max_new_tokens=5"])
    with pytest.raises(ConfigError, match=r"prompts\.timeout_s: Input should be greater than 0"):
        build_config(overrides=["prompts.backend=openai", "prompts.timeout_s=0"])


def test_another_backends_settings_in_a_file_are_checked_by_its_own_validators(tmp_path, caplog):
    """A file that chooses the template backend but holds openai settings (every config.yaml written before did)
    still has them checked: a pasted key is refused without being repeated, credentials never reach the log."""
    key = "sk-pasted-7f3a9c1e5b2d"
    with pytest.raises(ConfigError, match="must be the NAME of an environment variable") as caught:
        build_config({"prompts": {"backend": "template", "api_key_env": key}})
    assert key not in str(caught.value)
    with caplog.at_level(logging.WARNING):
        config = build_config({"prompts": {"backend": "template", "base_url": "http://alice:s3cret@host:8000/v1"}})
    assert config.prompts.entry_values() == {}
    assert "prompts.base_url='http://host:8000/v1' belongs to prompts.backend=openai" in caplog.text
    assert "held credentials" in caplog.text and "s3cret" not in caplog.text


def test_every_built_in_dataset_has_no_settings_and_the_loader_gets_them(tmp_path):
    from dalda.data.stage import load_dataset_index
    from dalda.datasets import DATASETS
    from dalda.settings import NoSettings

    assert {name: DATASETS.settings_model(name) for name in DATASETS} == dict.fromkeys(DATASETS, NoSettings)
    with pytest.raises(ConfigError, match=r"data\.size is not a field of data nor a setting of data\.dataset=demo"):
        build_config(overrides=["data.size=3"])
    config: DaldaConfig = build_config({"data": {"dataset": "demo", "root": str(tmp_path / "demo")}})
    assert load_dataset_index(config.data, tmp_path / "cache").name == "demo"


HEAVY = ("torch", "torchvision", "diffusers", "transformers")


def _module_level_imports(path: Path) -> list[str]:
    """Modules ``path`` imports when it is imported (not inside functions, classes or ``if TYPE_CHECKING:``)."""
    names = []
    for statement in ast.parse(path.read_text()).body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If)):
            continue
        for node in ast.walk(statement):
            if isinstance(node, ast.Import):
                names += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.append(node.module)
    return names


@pytest.mark.parametrize("package", ["scorers", "chat", "datasets"])
def test_entry_modules_import_no_model_code_when_the_registry_is_read(package):
    """Cheap start: a spec module imports torch, diffusers, transformers, the model kit or a scorer's forward
    pass only inside ``load()`` / ``build()``; only the ``*_forward`` modules (imported there) may do so."""
    folder = Path(dalda.__file__).parent / package
    heavy = {}
    for path in sorted(folder.glob("*.py")):
        if path.stem.endswith("_forward"):
            continue
        found = [name for name in _module_level_imports(path)
                 if name.split(".")[0] in HEAVY or name.startswith("dalda.models") or name.endswith("_forward")]
        if found:
            heavy[path.name] = found
    assert heavy == {}
