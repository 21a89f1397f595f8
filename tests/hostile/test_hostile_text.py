"""Issue 25, item 3: bounded outside text. An oversized LLM sentence is repaired like any invalid one (a body past
``prompts.max_response_mb`` is refused: ``test_hostile_network.py``), a hand-written one is refused, a dataset
description has a length limit, and prompts past the text encoder's tokens are named before generation."""

from __future__ import annotations

import json
import logging

import pytest
from fake_openai_server import FakeOpenAIServer, answer_all, json_answer
from test_hostile_llm import CLASSES, _config, key  # noqa: F401 (a fixture)

from dalda.chat.request import MAX_SENTENCE_CHARS
from dalda.config import DataConfig
from dalda.generation.truncation import one_truncation_warning
from dalda.models.tokenizer import build_byte_level_tokenizer
from dalda.prompts.descriptions import MAX_DESCRIPTION_CHARS, DescriptionError, resolve_description
from dalda.prompts.record import PromptsError
from dalda.prompts.stage import prompts_for_classes
from dalda.prompts.validation import validate_prompt_table
from dalda.rundir import RunDir

HUGE = "A cat on a sofa, " * 3000  # 51,000 characters: far below the body cap, far above a sentence


def test_an_oversized_llm_sentence_is_asked_again_and_never_stored(tmp_path, key):  # noqa: F811
    run = RunDir(tmp_path / "run")
    with FakeOpenAIServer([json_answer({"cat": HUGE, "dog": "A dog."}), answer_all()]) as server:
        table = prompts_for_classes(_config(tmp_path, server.url), CLASSES, run)
    assert len(server.requests) == 2
    assert all(len(prompt) <= MAX_SENTENCE_CHARS for prompts in table.values() for prompt in prompts)
    assert max(path.stat().st_size for path in run.root.rglob("*") if path.is_file()) < 40_000  # record: answer cut


def test_an_oversized_hand_written_prompt_is_refused_naming_class_and_length():
    with pytest.raises(PromptsError, match=r"prompt 0 of class 'cat' is not usable: the sentence is 50,999 ") as caught:
        validate_prompt_table({"cat": [HUGE], "dog": ["A dog."]}, CLASSES, "prompts.json")
    assert len(str(caught.value)) < 400  # the prompt is shown cut, not whole


@pytest.mark.parametrize("given", ["text", "file"])
def test_an_oversized_description_is_refused(tmp_path, given):
    text = "A dataset of cats. " * 1000
    path = tmp_path / "description.txt"
    path.write_text(text)
    data = DataConfig(description=text) if given == "text" else DataConfig(description_file=path)
    with pytest.raises(DescriptionError, match=rf"more than the {MAX_DESCRIPTION_CHARS} a dataset description"):
        resolve_description(data)


def test_prompts_past_the_token_limit_are_counted_and_the_longest_named(caplog):
    tokenizer = build_byte_level_tokenizer()
    long = "a photo of a cat " + "sitting very quietly on a soft red sofa " * 12
    caplog.set_level(logging.WARNING, logger="dalda.generation.truncation")
    with one_truncation_warning(tokenizer, ["a photo of a cat", long, long]):
        pass
    assert "2 of 3 prompts exceed the text encoder's 77 tokens" in caplog.text
    assert json.dumps(long[:40])[1:-1] in caplog.text
