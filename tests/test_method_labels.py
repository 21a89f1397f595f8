"""Honest method labels: the prompt source shows in the label, and no template run is called LLM or DALDA.

``dalda.chat.prompt_source`` says who wrote a run's prompts (its prompts record first, else its config);
``dalda.methods`` names the method under that source. The LLM case runs the real openai backend against the
scripted OpenAI-compatible server of the prompts tests.
"""

from __future__ import annotations

import pytest
from fake_openai_server import FakeOpenAIServer, answer_all

from dalda.artefacts import MethodRecord
from dalda.chat import prompt_source
from dalda.config import config_to_yaml
from dalda.configure import build_config, rebuild
from dalda.data.stage import run_data_stage
from dalda.evaluation.stage import synthetic_method_label
from dalda.methods import DALDA, get_method, method_of, reference_for
from dalda.pipeline import prepare_run
from dalda.planning.stage import run_plan_stage
from dalda.prompts import prompts_for_classes
from dalda.report.collect import load_run
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
    method = method_of(config, prompt_source(config))
    assert (method.name, method.title) == (label, title)
    assert "DALDA" not in title or source == "llm"


def test_a_hand_written_prompts_file_is_labelled_as_a_file(tmp_path):
    path = tmp_path / "prompts.json"
    path.write_text('{"cat": ["A cat."]}')
    config = _config(tmp_path, [f"prompts.prompts_file={path}"])
    method = method_of(config, "file")
    assert prompt_source(config) == "file" and (method.name, method.title) == ("file-ags", "File Prompt + AGS")


def _label(name, source=None):
    """The label of a run of the grid method ``name`` whose prompts ``source`` wrote."""
    return method_of(build_config(get_method(name).overrides), source)


def test_names_titles_order_and_references():
    assert _label("llm-ags", "template").name == "template-ags" and _label("llm-ags", "llm").name == "llm-ags"
    assert _label("base-rs", "template").name == "base-rs"
    assert _label("llm-fixed-0.50", "template").name == "template-fixed-0.5"
    with pytest.raises(ValueError, match="unknown method 'template-ags'"):
        get_method("template-ags")  # a label, not a method a grid can run: run llm-ags with the template backend
    labels = {label.name: label for label in (
        _label("llm-ags", "template"), _label("llm-ags", "llm"), _label("none"), _label("base-rs"),
        _label("llm-rs", "template"), _label("llm-rs", "llm"),
    )}  # fmt: skip
    order = sorted((labels[name] for name in ["template-ags", "llm-ags", "none", "base-rs", "template-rs"]),
                   key=lambda label: label.sort_key)  # fmt: skip
    assert [label.name for label in order] == ["none", "base-rs", "template-rs", "llm-ags", "template-ags"]

    def reference(name, present):
        found = reference_for([labels[other] for other in present], labels[name].prompt_source)
        return None if found is None else found.name

    present = {"none", "base-rs", "template-rs", "template-ags"}
    assert reference("template-rs", present) == "template-ags" and reference("none", present) == "template-ags"
    present |= {DALDA, "llm-rs"}
    assert reference("llm-rs", present) == DALDA and reference("base-rs", present) == DALDA
    assert reference("template-rs", present) == "template-ags"
    assert reference("none", {"none"}) is None
    variant = labels["template-ags"].variant("llm-ags-m5")  # a grid's variant, under the honest prompt source
    assert (variant.name, variant.title, variant.variant_of) == ("template-ags-m5", "template-ags-m5", "template-ags")
    assert reference_for([variant]) is None  # a variant is never a reference
    assert labels["template-ags"].variant("llm-ags") is labels["template-ags"]  # a cell under the method's own name


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
    assert method_of(_config(tmp_path, [chosen], backend="openai")).name == DALDA
    assert method_of(_config(tmp_path, [chosen]), "template").name == "template-ags"
    fixed = [chosen, "guidance.strategy=fixed", "guidance.fixed_scale=0.3", "prompts.source=base"]
    assert method_of(_config(tmp_path, fixed)).name == "base-fixed-0.3"
    assert method_of(_config(tmp_path, [chosen])).generator == generator


def test_a_generator_without_lambda_keeps_its_own_name(tmp_path):
    assert method_of(_config(tmp_path, ["generator.name=da-fusion"], backend="openai")).name == "da-fusion"


def test_the_clipped_ags_variant_is_labelled_apart_from_ags(tmp_path):
    """``ags-clipped`` (the authors' code) draws other λ than the paper's ``ags``: its runs are never pooled
    with DALDA's in a table, nor tested as DALDA."""
    clipped = method_of(_config(tmp_path, ["guidance.strategy=ags-clipped"], backend="openai"))
    ags = method_of(_config(tmp_path, backend="openai"))
    assert (clipped.name, clipped.title) == ("llm-ags-clipped", "LLM Prompt + AGS (clipped)")
    assert (ags.name, ags.title) == (DALDA, "LLM Prompt + AGS (DALDA)")
    assert ags.sort_key < clipped.sort_key
    assert reference_for([clipped, ags], clipped.prompt_source) == ags and reference_for([clipped]) is None
    assert get_method("llm-ags-clipped").overrides["guidance"] == {"strategy": "ags-clipped"}
    template = method_of(_config(tmp_path, ["guidance.strategy=ags-clipped"]), "template")
    assert (template.name, template.title) == ("template-ags-clipped", "Template Prompt + AGS (clipped)")


def test_the_plan_records_its_method_and_a_later_command_cannot_relabel_it(tmp_path):
    """The plan stage writes ``method.json``; evaluation and the report label the run by it, not by the config
    of whatever command ran last (no history is needed: the stage is called directly here)."""
    values = {"out_dir": str(tmp_path / "run"), "data": {"dataset": "demo", "root": str(tmp_path / "demo"), "shots": 1},
              "models": {"profile": "tiny"}, "plan": {"images_per_real": 1}}  # fmt: skip
    planned = build_config(values, ["prompts.source=base", "guidance.strategy=random"])
    run = prepare_run(planned)
    run_data_stage(planned, run)
    run_plan_stage(planned, run)
    assert MethodRecord.read(run) == MethodRecord("base-rs", "Base Prompt + RS", "base", "random", "ip-adapter", None)
    later = build_config(values, ["prompts.source=base", "guidance.strategy=fixed", "guidance.fixed_scale=0.3"])
    assert method_of(later).name == "base-fixed-0.3" and synthetic_method_label(later, run) == "base-rs"
    run.config.write_text(config_to_yaml(later))  # the last command's config, as the pipeline leaves it
    assert load_run(run.root).label.name == "base-rs"
    run.config.write_text(config_to_yaml(rebuild(later, {"train": {"synthetic_probability": 0.0}})))
    assert load_run(run.root).label.name == "none"  # trained on real images alone, whatever made the plan

    run_plan_stage(later, run)  # a new plan replaces the record with its own method
    assert MethodRecord.read(run).name == "base-fixed-0.3" and MethodRecord.read(run).fixed_lambda == 0.3
