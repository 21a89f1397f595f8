"""Which sentences are acceptable prompts for a class.

A prompt for class ``c`` must be a non-empty sentence that names no *other* class of the dataset, because a
synthetic image of ``c`` whose prompt names class ``d`` may show ``d`` and poison the training set (paper
Sec. 3.3: "avoid representing multiple in-distribution classes within a single prompt").

The mention rule, applied after normalising both texts (case-folded; ``_`` and ``-`` read as spaces; runs of
white space collapsed):

- class ``d`` is mentioned when its name occurs as whole words, optionally followed by a plural ``s``/``es``
  ("dogs" mentions "dog"; "hotdog" and "dogma" do not);
- occurrences that lie inside an occurrence of the sentence's own class name do not count, so a sentence for
  "tiger cat" may say "tiger cat" although "cat" is another class, while "a tiger cat chasing a cat" still
  mentions "cat";
- a class whose normalised name equals the own class's normalised name is never counted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from dalda.prompts.errors import PromptsError


def normalise(text: str) -> str:
    """Case-folded text with ``_``/``-`` as spaces and single spaces, the form names are compared in."""
    return " ".join(re.sub(r"[_\-]", " ", text).casefold().split())


class ClassNameMatcher:
    """Finds mentions of a dataset's class names in a sentence, following the module's mention rule."""

    def __init__(self, classes: list[str]) -> None:
        self.classes = list(classes)
        self._names = {name: normalise(name) for name in self.classes}
        self._patterns = {
            name: re.compile(r"(?<!\w)" + r"\s".join(map(re.escape, norm.split())) + r"(?:s|es)?(?!\w)")
            for name, norm in self._names.items()
            if norm
        }

    def _spans(self, name: str, text: str) -> list[tuple[int, int]]:
        pattern = self._patterns.get(name)
        return [match.span() for match in pattern.finditer(text)] if pattern else []

    def others_mentioned(self, sentence: str, own: str) -> list[str]:
        """The other classes that ``sentence``, written for class ``own``, names (in class order)."""
        text = normalise(sentence)
        own_norm = normalise(own)
        own_spans = self._spans(own, text)
        found = []
        for name in self.classes:
            if self._names[name] == own_norm:
                continue
            for start, end in self._spans(name, text):
                if not any(own_start <= start and end <= own_end for own_start, own_end in own_spans):
                    found.append(name)
                    break
        return found

    def problem(self, sentence: Any, own: str) -> str | None:
        """Why ``sentence`` is not an acceptable prompt for ``own``, or None when it is."""
        if not isinstance(sentence, str):
            return f"the answer for it is a {type(sentence).__name__}, not a sentence"
        if not sentence.strip():
            return "the sentence is empty"
        others = self.others_mentioned(sentence, own)
        if others:
            return "the sentence mentions another class of the dataset: " + ", ".join(repr(o) for o in others)
        return None


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
