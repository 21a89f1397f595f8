"""The prompts stage without an LLM: the offline template default, Base Prompt, hand-written files, caching."""

import json
import logging

import pytest

from dalda.chat.request import ClassNameMatcher
from dalda.chat.template import template_prompts
from dalda.config import ConfigError
from dalda.configure import build_config
from dalda.datasets import DATASETS
from dalda.prompts import PromptsError, prompts_for_classes
from dalda.prompts.descriptions import DescriptionError, require_description
from dalda.rundir import RunDir

# "garden", "table" and "window" are words of the template lists: prompts of the other classes must avoid them.
CLASSES = ["Abyssinian", "cat", "tiger cat", "garden", "table", "window", "leopards"]


def _config(tmp_path, **prompts):
    return build_config({"out_dir": str(tmp_path / "run"), "seed": 3, "prompts": {"num_prompts": 6, **prompts}})


def test_offline_default_is_the_template_backend(tmp_path):
    config = _config(tmp_path)
    assert config.prompts.source == "llm" and config.prompts.backend == "template"
    run = RunDir(tmp_path / "run")
    table = prompts_for_classes(config, CLASSES, run)
    assert list(table) == CLASSES
    matcher = ClassNameMatcher(CLASSES)
    for name, prompts in table.items():
        assert len(prompts) == 6 and len(set(prompts)) == 6
        for prompt in prompts:
            assert matcher.problem(prompt, name) is None, prompt
            assert not prompt.lower().startswith("best quality")  # the plan stage adds the prefix
    assert not any("garden" in p or "table" in p or "window" in p for p in table["cat"])
    assert json.loads(run.prompts.read_text()) == table
    record = json.loads(run.prompts_record.read_text())
    assert record["status"] == "complete" and record["settings"]["backend"] == "template"


def test_template_prompts_are_deterministic_per_seed_and_class():
    first = template_prompts(["cat", "dog"], 5, seed=1)
    assert first == template_prompts(["cat", "dog"], 5, seed=1)
    assert first["cat"] == template_prompts(["cat", "zebra"], 5, seed=1)["cat"]  # independent of other classes
    assert first != template_prompts(["cat", "dog"], 5, seed=2)
    assert first["cat"][0].startswith(("A ", "An ")) and " a cat " in first["cat"][0]
    assert " an Abyssinian " in template_prompts(["Abyssinian"], 1, seed=0)["Abyssinian"][0]
    assert " of leopards " in template_prompts(["leopards"], 1, seed=0)["leopards"][0]


def test_base_prompt_mode_gives_one_prompt_per_class(tmp_path):
    config = _config(tmp_path, source="base")
    table = prompts_for_classes(config, ["cat", "dog"], RunDir(tmp_path / "run"))
    assert table == {"cat": ["a photo of a cat"], "dog": ["a photo of a dog"]}


def test_cache_is_reused_until_settings_change_or_regenerate(tmp_path, caplog):
    run = RunDir(tmp_path / "run")
    table = prompts_for_classes(_config(tmp_path), ["cat", "dog"], run)
    run.prompts.write_text(json.dumps({"cat": ["A cat, edited."] * 6, "dog": ["A dog, edited."] * 6}))
    caplog.set_level(logging.INFO)
    assert prompts_for_classes(_config(tmp_path), ["cat", "dog"], run)["cat"][0] == "A cat, edited."  # reused
    assert "reusing" in caplog.text
    assert prompts_for_classes(_config(tmp_path, regenerate=True), ["cat", "dog"], run) == table
    run.prompts.write_text(json.dumps({"cat": ["A cat, edited."] * 6, "dog": ["A dog, edited."] * 6}))
    again = prompts_for_classes(_config(tmp_path, num_prompts=4), ["cat", "dog"], run)  # M changed
    assert len(again["cat"]) == 4 and "num_prompts" in caplog.text
    assert prompts_for_classes(_config(tmp_path, num_prompts=4), ["cat", "dog", "cow"], run)["cow"]  # classes changed


def test_hand_written_prompts_file_is_validated_and_used_as_is(tmp_path):
    good = tmp_path / "prompts.json"
    good.write_text(json.dumps({"dog": ["A dog in the snow."], "cat": ["A cat.", "A cat on a roof."]}))
    run = RunDir(tmp_path / "run")
    table = prompts_for_classes(_config(tmp_path, prompts_file=str(good)), ["cat", "dog"], run)
    assert table == {"cat": ["A cat.", "A cat on a roof."], "dog": ["A dog in the snow."]}
    assert json.loads(run.prompts.read_text()) == table
    assert json.loads(run.prompts_record.read_text())["settings"]["source"] == "file"

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"dog": ["A dog chasing a cat."], "cat": ["A cat."]}))
    with pytest.raises(PromptsError, match="class 'dog' .*mentions another class.*'cat'"):
        prompts_for_classes(_config(tmp_path, prompts_file=str(bad)), ["cat", "dog"], run)
    with pytest.raises(PromptsError, match="does not exist"):
        prompts_for_classes(_config(tmp_path, prompts_file=str(tmp_path / "nope.json")), ["cat", "dog"], run)
    bad.write_text("{not json")
    with pytest.raises(PromptsError, match="is not valid JSON"):
        prompts_for_classes(_config(tmp_path, prompts_file=str(bad)), ["cat", "dog"], run)


def test_descriptions_builtin_user_text_file_and_missing(tmp_path):
    def data(**values):
        return build_config({"data": values}).data

    pets = require_description(data(dataset="pets"), "openai")
    assert pets == DATASETS.get("pets").description and "37 categories" in pets  # the paper's Tab. 5, in our words
    assert "101 categories" in DATASETS.get("caltech101").description
    assert "102 flower categories" in DATASETS.get("flowers102").description
    folder = {"dataset": "imagefolder", "root": str(tmp_path)}
    assert require_description(data(**folder, description="My birds."), "openai") == "My birds."
    (tmp_path / "d.txt").write_text("Birds of Korea.\n")
    assert require_description(data(**folder, description_file=str(tmp_path / "d.txt")), "openai") == "Birds of Korea."
    with pytest.raises(DescriptionError, match="prompts.backend=openai needs a dataset description.*data.description"):
        require_description(data(**folder), "openai")
    with pytest.raises(DescriptionError, match="does not exist"):
        require_description(data(**folder, description_file=str(tmp_path / "missing.txt")), "openai")


def test_base_template_needs_one_class_slot():
    with pytest.raises(ConfigError, match="prompts.base_template='a photo of a {class}' must contain exactly one"):
        build_config({"prompts": {"base_template": "a photo of a {class}"}})


def test_stage_rejects_empty_or_duplicate_classes(tmp_path):
    with pytest.raises(PromptsError, match="no classes"):
        prompts_for_classes(_config(tmp_path), [], RunDir(tmp_path / "run"))
    with pytest.raises(PromptsError, match="repeated: \\['cat'\\]"):
        prompts_for_classes(_config(tmp_path), ["cat", "cat"], RunDir(tmp_path / "run"))
