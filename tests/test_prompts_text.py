"""Unit tests of the prompt text rules: JSON extraction, the class-mention rule, answer checks, retry timing."""

import random
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from dalda.chat.openai import backoff_delay, retry_after_seconds
from dalda.chat.request import ClassNameMatcher, build_messages
from dalda.prompts.record import PromptsError
from dalda.prompts.validation import AnswerNotJSON, check_answer, extract_json_object, validate_prompt_table
from dalda.redact import MASK, redact

CLASSES = ["cat", "tiger cat", "dog", "hot dog", "Great_Pyrenees", "water lily"]


@pytest.mark.parametrize(
    "text",
    [
        '{"cat": "A cat."}',
        'Sure! Here is the JSON:\n```json\n{"cat": "A cat."}\n```\nHope this helps.',
        '```\n{"cat": "A cat."}\n```',
        'Answer: {"cat": "A cat."} -- done {not json}',
        'note {broken} then {"cat": "A cat."}',
    ],
)
def test_extract_json_object_tolerates_fences_and_text(text):
    assert extract_json_object(text) == {"cat": "A cat."}


@pytest.mark.parametrize(
    "text", ["", "   ", "I cannot help with that.", '["cat", "A cat."]', "{'cat': 'single quotes'}"]
)
def test_extract_json_object_rejects_answers_without_an_object(text):
    with pytest.raises(AnswerNotJSON):
        extract_json_object(text)


def test_mention_rule_whole_words_plurals_and_own_name_overlap():
    m = ClassNameMatcher(CLASSES)
    assert m.others_mentioned("A tiger cat sleeping on a rug.", "tiger cat") == []  # "cat" is part of the own name
    assert m.others_mentioned("A tiger cat chasing a cat.", "tiger cat") == ["cat"]
    assert m.others_mentioned("A cat next to a Tiger-Cat.", "cat") == ["tiger cat"]
    assert m.others_mentioned("A cat watching two dogs.", "cat") == ["dog"]  # plural counts
    assert m.others_mentioned("A dog eating a hot dog.", "dog") == ["hot dog"]
    assert m.others_mentioned("A hot dog on a plate.", "hot dog") == []
    assert m.others_mentioned("A dogma-free catalogue of hotdogs.", "water lily") == []  # not whole words
    assert m.others_mentioned("A great pyrenees near a WATER_LILY pond.", "cat") == ["Great_Pyrenees", "water lily"]


def test_check_answer_accepts_matching_keys_and_names_each_problem():
    m = ClassNameMatcher(CLASSES)
    answer = {
        "CAT": "  A cat on a\nsofa. ",  # key matched case-insensitively, white space tidied
        "tiger cat": "",
        "dog": "A dog chasing a cat.",
        "hot dog": ["not", "a", "string"],
        "unknown": "ignored",
    }
    accepted, problems, flags = check_answer(answer, ["cat", "tiger cat", "dog", "hot dog", "water lily"], m)
    assert accepted == {"cat": "A cat on a sofa."}
    assert problems == {
        "tiger cat": "the sentence is empty",
        "dog": "the sentence mentions another class of the dataset: 'cat'",
        "hot dog": "the answer for it is a list, not a sentence",
        "water lily": "the answer has no sentence for it",
    }
    assert [(flag.class_name, flag.action) for flag in flags] == [("dog", "asked again")]


def test_validate_prompt_table_names_the_bad_class():
    classes = ["cat", "dog"]
    ok = validate_prompt_table({"dog": "A dog.", "cat": ["A cat.", "A cat asleep."]}, classes, "f.json")
    assert ok == {"cat": ["A cat.", "A cat asleep."], "dog": ["A dog."]}
    with pytest.raises(PromptsError, match=r"f.json has no prompts for the classes \['dog'\]"):
        validate_prompt_table({"cat": ["A cat."]}, classes, "f.json")
    with pytest.raises(PromptsError, match="not in the dataset: \\['cow'\\]"):
        validate_prompt_table({"cat": ["A cat."], "dog": ["A dog."], "cow": ["A cow."]}, classes, "f.json")
    with pytest.raises(PromptsError, match="prompt 1 of class 'cat' .* mentions another class .*'dog'"):
        validate_prompt_table({"cat": ["A cat.", "A cat and a dog."], "dog": ["A dog."]}, classes, "f.json")
    with pytest.raises(PromptsError, match="class 'dog' needs a non-empty list"):
        validate_prompt_table({"cat": ["A cat."], "dog": []}, classes, "f.json")
    with pytest.raises(PromptsError, match="prompt 0 of class 'dog' .* empty"):
        validate_prompt_table({"cat": ["A cat."], "dog": ["  "]}, classes, "f.json")


def test_repair_messages_ask_only_for_the_wanted_classes_and_say_why():
    full = build_messages("Pets.", ["cat", "dog"], ["cat", "dog"])
    assert "Write one sentence for every class above." in full[1]["content"]
    repair = build_messages("Pets.", ["cat", "dog"], ["dog"], {"dog": "the sentence is empty"})
    user = repair[1]["content"]
    assert 'Write one sentence for each of these 1 classes only: ["dog"]' in user
    assert '- "dog": the sentence is empty' in user
    assert 'Classes of the dataset (a sentence must not mention any class other than its own): ["cat", "dog"]' in user
    assert repair[0]["role"] == "system" and "JSON" in repair[0]["content"]


def test_retry_after_forms_and_backoff_growth():
    assert retry_after_seconds({"Retry-After": "7"}) == 7.0
    assert retry_after_seconds({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    now = datetime(2025, 1, 1, tzinfo=timezone.utc)
    assert retry_after_seconds({"retry-after": format_datetime(now + timedelta(seconds=30), usegmt=True)}, now) == 30
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None
    rng = random.Random(0)
    waits = [backoff_delay(i, 1.0, 5.0, rng) for i in range(5)]
    for i, wait in enumerate(waits):
        cap = min(5.0, 2.0**i)
        assert cap / 2 <= wait <= cap


def test_redact_masks_secrets_in_nested_values():
    value = {"a": ["key sk-123 here", {"sk-123": 1}], "b": 2}
    assert redact(value, ["sk-123"]) == {"a": [f"key {MASK} here", {MASK: 1}], "b": 2}
    assert redact(value, []) is value
