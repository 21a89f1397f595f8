"""Reading an LLM answer and deciding which of its sentences are acceptable prompts for their class.

Chat models wrap JSON in code fences or add a sentence before or after it even when told not to, so
:func:`extract_json_object` looks for the object instead of demanding that the whole answer be JSON: first
inside fenced blocks, then at each ``{`` of the text, taking the first candidate that decodes to a JSON object.
Each sentence is then checked by the mention rule of :class:`dalda.chat.request.ClassNameMatcher` (a prompt
names no other class of the dataset), the same rule for an LLM answer, a hand-written file and a cache.

``prompts.validation`` says what a sentence that breaks the rule (a *flagged* sentence) does:

- ``repair`` (default): it is rejected; an LLM is asked again (``prompts.max_retries``), a file is refused;
- ``warn``: it is kept, and listed (class, sentence, reason, "kept") in ``prompts_record.json``;
- ``off``: the rule is not checked at all.

Whatever the mode, an answer that is no sentence (missing, empty, not a string) is never kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from dalda.chat.request import ClassNameMatcher, normalise
from dalda.prompts.record import PromptsError

ValidationMode = Literal["repair", "warn", "off"]
KEPT = "kept"
ASKED_AGAIN = "asked again"


@dataclass(frozen=True)
class Flag:
    """One flagged sentence: the class it was written for, why it was flagged, and what was done with it."""

    class_name: str
    sentence: str
    reason: str
    action: str
    """:data:`KEPT` (``warn``: the sentence is used) or :data:`ASKED_AGAIN` (``repair``: the LLM was asked again)."""

    def to_json(self, **where: Any) -> dict[str, Any]:
        """The entry of ``prompts_record.json``'s ``flagged`` list; ``where`` adds e.g. the round."""
        fields = {"class": self.class_name, "sentence": self.sentence, "reason": self.reason, "action": self.action}
        return {**where, **fields}


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


def match_answer_keys(
    answer: Mapping[str, Any], wanted: list[str], asked: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Map each wanted class to its value in ``answer``: the key it was asked by (``asked``: class -> the
    LLM-facing name), else its own name, each exactly first, else by the same normalised name."""
    by_norm: dict[str, Any] = {}
    for key, value in answer.items():
        by_norm.setdefault(normalise(str(key)), value)
    matched = {}
    for name in wanted:
        keys = [(asked or {}).get(name, name), name]
        for key in keys:
            if key in answer:
                matched[name] = answer[key]
                break
        else:
            for key in keys:
                if normalise(key) in by_norm:
                    matched[name] = by_norm[normalise(key)]
                    break
    return matched


def check_answer(
    answer: Mapping[str, Any], wanted: list[str], matcher: ClassNameMatcher, mode: ValidationMode = "repair"
) -> tuple[dict[str, str], dict[str, str], list[Flag]]:
    """Split one parsed LLM answer into accepted sentences, a problem per wanted class that has none, and the
    flagged sentences (``mode``: see the module docstring; in ``repair`` a flagged sentence is also a problem)."""
    values = match_answer_keys(answer, wanted, matcher.llm_names)
    accepted: dict[str, str] = {}
    problems: dict[str, str] = {}
    flags: list[Flag] = []
    for name in wanted:
        if name not in values:
            problems[name] = "the answer has no sentence for it"
            continue
        sentence = values[name]
        problem = matcher.sentence_problem(sentence)
        if problem is None and mode != "off":
            flag = matcher.mention_problem(sentence, name)
            if flag is not None:
                tidy = " ".join(sentence.split())
                flags.append(Flag(name, tidy, flag, KEPT if mode == "warn" else ASKED_AGAIN))
                problem = flag if mode == "repair" else None
        if problem is None:
            accepted[name] = " ".join(sentence.split())
        else:
            problems[name] = problem
    return accepted, problems, flags


def validate_prompt_table(
    table: Any,
    classes: list[str],
    source: str,
    mode: ValidationMode = "repair",
    flags: list[Flag] | None = None,
    llm_names: Mapping[str, str] | None = None,
) -> dict[str, list[str]]:
    """Check a ``{class: [prompt, ...]}`` table (a hand-written file or a cache) and return it in class order.

    A single string is accepted as a one-prompt list. Every class must be present with at least one prompt,
    and no unknown class may appear. A prompt that names another class is refused in ``repair`` mode (the error
    names ``source``, the class and the prompt); in ``warn`` mode it is kept and appended to ``flags``.
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
    matcher = ClassNameMatcher(classes, llm_names)
    result: dict[str, list[str]] = {}
    for name in classes:
        prompts = table[name]
        if isinstance(prompts, str):
            prompts = [prompts]
        if not isinstance(prompts, list) or not prompts:
            raise PromptsError(f"{source}: class {name!r} needs a non-empty list of prompts, got {prompts!r}")
        for index, prompt in enumerate(prompts):
            problem = matcher.sentence_problem(prompt)
            if problem is None and mode != "off":
                problem = matcher.mention_problem(prompt, name)
                if problem is not None and mode == "warn":
                    if flags is not None:
                        flags.append(Flag(name, " ".join(prompt.split()), problem, KEPT))
                    problem = None
            if problem is not None:
                shown = prompt if not isinstance(prompt, str) or len(prompt) <= 100 else prompt[:97] + "..."
                raise PromptsError(f"{source}: prompt {index} of class {name!r} is not usable: {problem} ({shown!r})")
        result[name] = [" ".join(p.split()) for p in prompts]
    return result
