"""LLM-facing class names and ``prompts.validation: repair | warn | off`` in the real prompts stage.

A scripted chat backend (registered like any backend, ``docs/extending.md``) answers each request from a list
of {asked name: sentence} functions and keeps every request it got, so the tests see exactly what the LLM
was asked and what was kept.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from dalda.artefacts import PromptsRecord
from dalda.chat import CHAT_BACKENDS, ChatBackendSpec, ChatMessage, ChatReply
from dalda.chat.request import read_request
from dalda.configure import build_config
from dalda.datasets import DATASETS
from dalda.prompts import PromptsError, prompts_for_classes
from dalda.rundir import RunDir

Script = Callable[[list[str]], dict[str, str]]


class ScriptedBackend:
    name = "scripted"
    secrets: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.requests: list[list[ChatMessage]] = []

    def complete(self, messages: list[ChatMessage]) -> ChatReply:
        self.requests.append(messages)
        _, wanted = read_request(messages)
        script = SCRIPT[min(len(self.requests), len(SCRIPT)) - 1]
        return ChatReply(text=json.dumps(script(wanted)), details={"model": "scripted"})


SCRIPT: list[Script] = []
BUILT: list[ScriptedBackend] = []


@pytest.fixture
def scripted():
    def build(config, settings):
        BUILT.append(ScriptedBackend())
        return BUILT[-1]

    spec = ChatBackendSpec(
        "scripted", is_llm=True, fingerprint=lambda config, settings: {"model": "scripted"}, build=build
    )
    CHAT_BACKENDS.register("scripted", spec)
    BUILT.clear()
    SCRIPT.clear()
    yield SCRIPT
    CHAT_BACKENDS.unregister("scripted")


def _config(tmp_path, dataset="caltech101", **prompts):
    values = {"out_dir": str(tmp_path / "run"), "data": {"dataset": dataset}}
    values["prompts"] = {"backend": "scripted", "num_prompts": 1, "max_retries": 2, **prompts}
    return build_config(values)


def _user(messages: list[ChatMessage]) -> str:
    return messages[-1]["content"]


CALTECH = ["bass", "crab", "face", "portrait"]


def test_the_llm_is_asked_with_the_caltech_llm_names_and_the_table_keeps_the_dataset_names(tmp_path, scripted):
    scripted.append(lambda wanted: {name: f"A {name} in a photo." for name in wanted})
    run = RunDir(tmp_path / "run")
    table = prompts_for_classes(_config(tmp_path), CALTECH, run)

    asked, wanted = read_request(BUILT[0].requests[0])
    assert asked == ["bass fish", "crab", "close-up face", "portrait of a person"] == wanted
    assert '"bass fish"' in _user(BUILT[0].requests[0]) and '"bass"' not in _user(BUILT[0].requests[0])
    assert list(table) == CALTECH  # the answer, keyed by the asked names, is read back into the dataset's names
    assert table["bass"] == ["A bass fish in a photo."]
    assert json.loads(run.prompts.read_text()) == table
    record = PromptsRecord.read(run)
    # the entry's names for the run's classes (the entry also names the authors' "faces" / "faces easy")
    llm_names = DATASETS.get("caltech101").llm_names
    assert record.settings["llm_names"] == {name: llm_names[name] for name in CALTECH if name in llm_names}
    assert record.validation == "repair" and record.flagged == [] and record.flagged_count == 0


def test_the_scoring_prompts_keep_the_dataset_names(monkeypatch):
    """CLIPScore embeds "a photo of a bass": the LLM-facing names never reach the scorer."""
    import dalda.scorers.clip_forward as clip_forward

    texts: list[str] = []

    class FakeClip:
        def encode_texts(self, prompts):
            texts.extend(prompts)
            return prompts

    monkeypatch.setattr(clip_forward, "load_clip", lambda models: FakeClip())
    config = build_config({"data": {"dataset": "caltech101"}})
    clip_forward.load_clip_measurer(config.models, CALTECH, config.score.template)
    assert texts[0] == config.score.template.format("bass") and "fish" not in texts[0]


def test_other_datasets_keep_their_settings_unchanged(tmp_path, scripted):
    scripted.append(lambda wanted: {name: f"A {name} in a photo." for name in wanted})
    run = RunDir(tmp_path / "run")
    prompts_for_classes(_config(tmp_path, dataset="pets"), ["pug", "boxer"], run)
    assert "llm_names" not in PromptsRecord.read(run).settings  # so cached prompts of pets stay valid
    assert read_request(BUILT[0].requests[0])[0] == ["pug", "boxer"]


BAD_BASS = "A musician slaps a bass guitar on stage."
BAD_CRAB = "A crab scuttles past a close-up face."


def _bad_then_good(wanted: list[str]) -> dict[str, str]:
    return {name: {"bass fish": BAD_BASS, "crab": BAD_CRAB}.get(name, f"A {name} in a photo.") for name in wanted}


def test_repair_asks_again_for_flagged_sentences_and_records_them(tmp_path, scripted):
    scripted += [_bad_then_good, lambda wanted: {name: f"A {name} in a photo." for name in wanted}]
    run = RunDir(tmp_path / "run")
    table = prompts_for_classes(_config(tmp_path), CALTECH, run)

    assert table["bass"] == ["A bass fish in a photo."] and table["crab"] == ["A crab in a photo."]
    repair = BUILT[0].requests[1]
    assert read_request(repair)[1] == ["bass fish", "crab"]  # only the flagged classes, by their asked names
    assert "only in 'bass guitar'" in _user(repair) and "'close-up face'" in _user(repair)
    record = PromptsRecord.read(run)
    assert record.flagged_count == 2
    assert [(f["class"], f["sentence"], f["action"]) for f in record.flagged] == [
        ("bass", BAD_BASS, "asked again"), ("crab", BAD_CRAB, "asked again")
    ]
    assert all(f["round"] == 0 and f["reason"] for f in record.flagged)


def test_repair_fails_clearly_when_the_retries_run_out(tmp_path, scripted):
    scripted.append(_bad_then_good)
    with pytest.raises(PromptsError, match=r"still no valid sentence for 2 class\(es\): 'bass', 'crab'"):
        prompts_for_classes(_config(tmp_path, max_retries=1), CALTECH, RunDir(tmp_path / "run"))
    assert len(BUILT[0].requests) == 2


def test_warn_keeps_flagged_sentences_and_lists_them(tmp_path, scripted):
    scripted.append(_bad_then_good)
    run = RunDir(tmp_path / "run")
    table = prompts_for_classes(_config(tmp_path, validation="warn"), CALTECH, run)

    assert table["bass"] == [BAD_BASS] and table["crab"] == [BAD_CRAB] and len(BUILT[0].requests) == 1
    record = PromptsRecord.read(run)
    assert record.validation == "warn" and record.flagged_count == 2
    assert {(f["class"], f["action"]) for f in record.flagged} == {("bass", "kept"), ("crab", "kept")}
    assert prompts_for_classes(_config(tmp_path, validation="warn"), CALTECH, run) == table  # the cache is reused
    assert len(BUILT) == 1
    with pytest.raises(PromptsError, match="still no valid sentence"):  # repair does not reuse flagged prompts:
        prompts_for_classes(_config(tmp_path, validation="repair"), CALTECH, run)  # it asks, and fails here
    assert len(BUILT) == 2 and json.loads(run.prompts.read_text()) == table  # the finished table is kept


def test_warn_and_repair_on_a_hand_written_file(tmp_path, scripted):
    path = tmp_path / "prompts.json"
    path.write_text(json.dumps({"cat": ["A cat next to a dog."], "dog": ["A dog looks into the camera."]}))
    classes = ["cat", "dog", "camera"]
    table_file = {**json.loads(path.read_text()), "camera": ["A camera on a shelf."]}
    path.write_text(json.dumps(table_file))
    with pytest.raises(PromptsError, match="prompt 0 of class 'cat' is not usable: .*'dog'"):
        prompts_for_classes(_config(tmp_path, dataset="demo", prompts_file=str(path)), classes, RunDir(tmp_path / "a"))
    run = RunDir(tmp_path / "b")
    warn = _config(tmp_path, dataset="demo", prompts_file=str(path), validation="warn")
    table = prompts_for_classes(warn, classes, run)
    assert table == table_file
    record = PromptsRecord.read(run)
    assert [(f["class"], f["action"]) for f in record.flagged] == [("cat", "kept")]  # the gaze idiom is no flag


def test_off_checks_nothing_but_still_needs_a_sentence(tmp_path, scripted):
    scripted += [lambda wanted: {name: "" if name == "crab" else BAD_BASS for name in wanted},
                 lambda wanted: {name: "A crab." for name in wanted}]  # fmt: skip
    run = RunDir(tmp_path / "run")
    table = prompts_for_classes(_config(tmp_path, validation="off"), CALTECH, run)
    assert table["bass"] == [BAD_BASS] and table["crab"] == ["A crab."]  # an empty answer is still asked again
    record = PromptsRecord.read(run)
    assert record.validation == "off" and record.flagged == []


def test_old_records_without_the_flag_list_still_load(tmp_path):
    path = tmp_path / "prompts_record.json"
    old = {"status": "complete", "settings": {"source": "llm", "backend": "template"}, "started_at": "t",
           "finished_at": "t", "usage": {}, "rounds": [], "attempts": []}  # fmt: skip
    path.write_text(json.dumps(old, indent=2))
    record = PromptsRecord.read(path)
    assert record.validation == "repair" and record.flagged == [] and record.prompt_source == "template"
    before = path.read_bytes()
    record.write(path)
    assert json.loads(path.read_bytes()) == json.loads(before)


def test_the_report_lists_the_flagged_prompts(tmp_path, scripted):
    from dalda.config import config_to_yaml
    from dalda.report.stage import build_report

    scripted.append(_bad_then_good)
    config = _config(tmp_path, validation="warn")
    run = RunDir(tmp_path / "run").ensure()
    run.config.write_text(config_to_yaml(config))
    prompts_for_classes(config, CALTECH, run)
    page = build_report(run.root).read_text()
    assert "Flagged prompts" in page and "2 sentence(s) flagged by the prompt validator: 2 kept" in page
    rows = (run.report / "tables" / "flagged_prompts.csv").read_text().splitlines()
    assert len(rows) == 3 and BAD_BASS in rows[1] and "kept" in rows[1] and "bass" in rows[1]

    clean = RunDir(tmp_path / "clean").ensure()
    clean.config.write_text(config_to_yaml(_config(tmp_path, validation="warn")))
    SCRIPT[:] = [lambda wanted: {name: f"A {name} in a photo." for name in wanted}]
    prompts_for_classes(config, CALTECH, clean)
    build_report(clean.root)
    assert not (clean.report / "tables" / "flagged_prompts.csv").exists()  # nothing flagged: no table
