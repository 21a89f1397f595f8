"""Reading an LLM answer and deciding which of its sentences are acceptable prompts for their class.

Chat models wrap JSON in code fences or add a sentence before or after it even when told not to, so
:func:`extract_json_object` looks for the object instead of demanding that the whole answer be JSON: first
inside fenced blocks, then at each ``{`` of the text, taking the first candidate that decodes to a JSON object.
Each sentence is then checked by the mention rule of :class:`dalda.chat.request.ClassNameMatcher` (a prompt
names no other class of the dataset), the same rule for an LLM answer, a hand-written file and a cache.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from dalda.chat.request import ClassNameMatcher, normalise
from dalda.prompts.record import PromptsError

_FENCE = re.compile(r"```[A-Za-z0-9_-]*[ \t]*\n?(.*?)```", re.DOTALL)
_MAX_CANDIDATES = 200


class AnswerNotJSON(ValueError):
    """The answer holds no JSON object."""


def extract_json_object(text: str) -> dict[str, Any]:
    """The first JSON object in ``text`` (fenced blocks first), or :class:`AnswerNotJSON` with a short reason."""
    if not text or not text.strip():
        raise AnswerNotJSON("the answer is empty")
    decoder = json.JSONDecoder()
    for block in _FENCE.findall(text):
        try:
            value = json.loads(block)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    starts = [match.start() for match in re.finditer(r"\{", text)][:_MAX_CANDIDATES]
    for start in starts:
        try:
            value, _ = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    preview = " ".join(text.split())[:80]
    raise AnswerNotJSON(f"the answer holds no JSON object (it begins {preview!r})")


def match_answer_keys(answer: Mapping[str, Any], wanted: list[str]) -> dict[str, Any]:
    """Map each wanted class to its value in ``answer``: exact key first, else the same normalised name."""
    by_norm: dict[str, Any] = {}
    for key, value in answer.items():
        by_norm.setdefault(normalise(str(key)), value)
    matched = {}
    for name in wanted:
        if name in answer:
            matched[name] = answer[name]
        elif normalise(name) in by_norm:
            matched[name] = by_norm[normalise(name)]
    return matched


def check_answer(
    answer: Mapping[str, Any], wanted: list[str], matcher: ClassNameMatcher
) -> tuple[dict[str, str], dict[str, str]]:
    """Split one parsed LLM answer into accepted sentences and a problem per wanted class that has none."""
    values = match_answer_keys(answer, wanted)
    accepted: dict[str, str] = {}
    problems: dict[str, str] = {}
    for name in wanted:
        if name not in values:
            problems[name] = "the answer has no sentence for it"
            continue
        problem = matcher.problem(values[name], name)
        if problem is None:
            accepted[name] = " ".join(values[name].split())
        else:
            problems[name] = problem
    return accepted, problems


def validate_prompt_table(table: Any, classes: list[str], source: str) -> dict[str, list[str]]:
    """Check a ``{class: [prompt, ...]}`` table (a hand-written file or a cache) and return it in class order.

    A single string is accepted as a one-prompt list. Every class must be present with at least one prompt,
    no unknown class may appear, and no prompt may name another class; the error names ``source`` and the class.
    """
    if not isinstance(table, Mapping):
        kind = type(table).__name__
        raise PromptsError(f"{source} must hold a JSON object {{class name: [prompt, ...]}}, not a {kind}")
    unknown = [key for key in table if key not in classes]
    if unknown:
        raise PromptsError(
            f"{source} has prompts for classes that are not in the dataset: {unknown}; "
            f"use the dataset's class names exactly (e.g. {classes[:3]})"
        )
    missing = [name for name in classes if name not in table]
    if missing:
        raise PromptsError(f"{source} has no prompts for the classes {missing}; add a list of prompts for each")
    matcher = ClassNameMatcher(classes)
    result: dict[str, list[str]] = {}
    for name in classes:
        prompts = table[name]
        if isinstance(prompts, str):
            prompts = [prompts]
        if not isinstance(prompts, list) or not prompts:
            raise PromptsError(f"{source}: class {name!r} needs a non-empty list of prompts, got {prompts!r}")
        for index, prompt in enumerate(prompts):
            problem = matcher.problem(prompt, name)
            if problem is not None:
                raise PromptsError(f"{source}: prompt {index} of class {name!r} is not usable: {problem} ({prompt!r})")
        result[name] = [" ".join(p.split()) for p in prompts]
    return result
