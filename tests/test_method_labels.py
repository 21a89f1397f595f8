"""Honest method labels: the prompt source shows in the label, and no template run is called LLM or DALDA.

``dalda.chat.prompt_source`` says who wrote a run's prompts (its prompts record first, else its config);
``dalda.methods`` names the method under that source. The LLM case runs the real openai backend against the
scripted OpenAI-compatible server of the prompts tests.
"""

from __future__ import annotations

import pytest
from fake_openai_server import FakeOpenAIServer, answer_all

from dalda.chat import prompt_source
from dalda.configure import build_config
from dalda.evaluation.stage import synthetic_method_label
from dalda.methods import (
    DALDA,
    canonical_name,
    get_method,
    honest_name,
    method_label,
    method_sort_key,
    method_title,
    reference_for,
)
from dalda.prompts import prompts_for_classes
from dalda.rundir import RunDir

ENV = "DALDA_TEST_OPENAI_KEY"


def _config(tmp_path, overrides=(), **prompts):
    values = {"out_dir": str(tmp_path / "run"), "data": {"dataset": "pets"}, "prompts": prompts}
    return build_config(values, list(overrides))


@pytest.mark.parametrize(
    ("overrides", "source", "label", "title"),
    [
        ((), "template", "template-ags", "Template Prompt + AGS"),
        (("guidance.strategy=random",), "template", "template-rs", "Template Prompt + RS"),
        (("guidance.strategy=fixed", "guidance.fixed_scale=0.3"), "template", "template-fixed-0.3",
         "Template Prompt + λ=0.3"),
        (("prompts.backend=openai",), "llm", "llm-ags", "LLM Prompt + AGS (DALDA)"),
        (("prompts.source=base",), "base", "base-ags", "Base Prompt + AGS"),
        (("generator.name=real-guidance",), "template", "real-guidance", "Real Guidance"),  # baselines: no prefix
        (("train.synthetic_probability=0",), "template", "none", "Real images only"),
    ],
)  # fmt: skip
def test_the_label_names_the_prompt_source(tmp_path, overrides, source, label, title):
    config = _config(tmp_path, overrides)
    assert prompt_source(config) == source
    assert method_label(config, prompt_source(config)) == label and method_title(label) == title
    assert "DALDA" not in title or source == "llm"


def test_a_hand_written_prompts_file_is_labelled_as_a_file(tmp_path):
    path = tmp_path / "prompts.json"
    path.write_text('{"cat": ["A cat."]}')
    config = _config(tmp_path, [f"prompts.prompts_file={path}"])
    assert prompt_source(config) == "file" and method_label(config, "file") == "file-ags"
    assert method_title("file-ags") == "File Prompt + AGS"


def test_names_titles_order_and_references():
    assert honest_name("llm-ags", "template") == "template-ags" and honest_name("llm-ags", "llm") == "llm-ags"
    assert honest_name("base-rs", "template") == "base-rs" and honest_name("m1", "template") == "m1"
    assert canonical_name("template-fixed-0.50") == "template-fixed-0.5"
    with pytest.raises(ValueError, match="unknown method 'template-ags'"):
        get_method("template-ags")  # a label, not a method a grid can run: run llm-ags with the template backend
    order = sorted(["template-ags", "llm-ags", "none", "base-rs", "template-rs"], key=method_sort_key)
    assert order == ["none", "base-rs", "template-rs", "llm-ags", "template-ags"]
    present = {"none", "base-rs", "template-rs", "template-ags"}
    assert reference_for("template-rs", present) == "template-ags" and reference_for("none", present) == "template-ags"
    present |= {DALDA, "llm-rs"}
    assert reference_for("llm-rs", present) == DALDA and reference_for("base-rs", present) == DALDA
    assert reference_for("template-rs", present) == "template-ags"
    assert reference_for("none", {"none"}) is None


def test_a_run_whose_prompts_an_llm_wrote_is_labelled_llm_ags(tmp_path, monkeypatch):
    """The prompts record says an LLM (the openai backend, on the fake server) wrote the prompts, so the run is
    DALDA's llm-ags even when a later command's config names the template backend."""
    monkeypatch.setenv(ENV, "sk-test")
    run = RunDir(tmp_path / "run")
    with FakeOpenAIServer([answer_all()]) as server:
        llm = _config(tmp_path, backend="openai", base_url=server.url, api_key_env=ENV, num_prompts=1, timeout_s=5)
        prompts_for_classes(llm, ["cat", "dog"], run)
    template = _config(tmp_path)
    assert prompt_source(template, run) == "llm" and synthetic_method_label(template, run) == DALDA
    assert prompt_source(template) == "template"  # without the record, the config decides


def test_a_template_record_is_never_relabelled_as_an_llm(tmp_path):
    run = RunDir(tmp_path / "run")
    prompts_for_classes(_config(tmp_path, num_prompts=1), ["cat", "dog"], run)
    llm_config = _config(tmp_path, backend="openai")
    assert prompt_source(llm_config, run) == "template"
    assert synthetic_method_label(llm_config, run) == "template-ags"


@pytest.mark.parametrize("generator", ["ip-adapter", "ip-adapter-plus", "sdxl-ip-adapter"])
def test_the_lambda_methods_are_the_same_on_every_generator_that_takes_lambda(tmp_path, generator):
    """The generator is its own axis (``configs/experiments/beyond.yaml``): DALDA on SDXL is still DALDA."""
    chosen = f"generator.name={generator}"
    assert method_label(_config(tmp_path, [chosen], backend="openai")) == DALDA
    assert method_label(_config(tmp_path, [chosen]), "template") == "template-ags"
    fixed = [chosen, "guidance.strategy=fixed", "guidance.fixed_scale=0.3", "prompts.source=base"]
    assert method_label(_config(tmp_path, fixed)) == "base-fixed-0.3"


def test_a_generator_without_lambda_keeps_its_own_name(tmp_path):
    assert method_label(_config(tmp_path, ["generator.name=da-fusion"], backend="openai")) == "da-fusion"
