"""The request every chat backend answers (the authors' set-up) and the rule it states.

One request asks for a JSON object ``{class name: one sentence}``. The first request of a round asks for every
class; a repair request asks only for the classes still missing or rejected and says what was wrong, while
still listing every class of the dataset so the model knows which names to avoid. An offline backend reads
the two class lists back with :func:`read_request`.

A sentence for class ``c`` must name no *other* class of the dataset, because a synthetic image of ``c`` whose
prompt names class ``d`` may show ``d`` and poison the training set (paper Sec. 3.3: "avoid representing
multiple in-distribution classes within a single prompt"). The mention rule of :class:`ClassNameMatcher`,
applied after normalising both texts (Unicode NFC; case-folded; ``_`` and ``-`` read as spaces; runs of white
space collapsed; :mod:`dalda.names`):

- class ``d`` is mentioned when its name occurs as whole words, optionally followed by a plural ``s``/``es``
  ("dogs" mentions "dog"; "hotdog" and "dogma" do not);
- occurrences that lie inside an occurrence of the sentence's own class name do not count, so a sentence for
  "tiger cat" may say "tiger cat" although "cat" is another class, while "a tiger cat chasing a cat" still
  mentions "cat";
- a class whose normalised name equals the own class's normalised name is never counted.
"""

from __future__ import annotations

import json
import re
from typing import Any

from dalda.chat.protocol import ChatMessage
from dalda.names import normalise_text

SYSTEM_MESSAGE = (
    "You write text prompts for a text-to-image model that creates training images for an image "
    "classification dataset. For each class you are asked about, write exactly one sentence that describes a "
    "realistic photo of that class. Keep the properties that define the class, and add external elements such "
    "as the view, colour, action, background, foreground or environment. Stay realistic and consistent with the "
    "dataset description. A sentence may name only its own class: never mention any other class of the "
    "dataset in it. Answer with one JSON object that maps each class name, written exactly as given, to its "
    "sentence, and nothing else."
)
_CLASSES = "Classes of the dataset (a sentence must not mention any class other than its own): "
_ALL = "Write one sentence for every class above."
_ONLY = re.compile(r"^Write one sentence for each of these \d+ classes only: (.*)$", re.MULTILINE)


def build_messages(
    description: str, classes: list[str], wanted: list[str], feedback: dict[str, str] | None = None
) -> list[ChatMessage]:
    """System + user messages asking for one sentence for each class in ``wanted``.

    ``feedback`` maps a class to why its previous sentence was rejected; it is included so the model can fix it.
    """
    parts = [f"Dataset description: {description}", _CLASSES + json.dumps(classes, ensure_ascii=False)]
    if list(wanted) == list(classes):
        parts.append(_ALL)
    else:
        only = json.dumps(wanted, ensure_ascii=False)
        parts.append(f"Write one sentence for each of these {len(wanted)} classes only: {only}")
    if feedback:
        notes = "\n".join(f"- {json.dumps(name, ensure_ascii=False)}: {why}" for name, why in feedback.items())
        parts.append("Your previous answer could not be used for these classes:\n" + notes)
    parts.append('Answer with JSON only, e.g. {"class name": "One sentence."}.')
    return [
        {"role": "system", "content": SYSTEM_MESSAGE},
        {"role": "user", "content": "\n\n".join(parts)},
    ]


def read_request(messages: list[ChatMessage]) -> tuple[list[str], list[str]]:
    """(every class of the dataset, the classes asked for) of a request made by :func:`build_messages`."""
    text = messages[-1]["content"]
    line = next(line for line in text.splitlines() if line.startswith(_CLASSES))
    classes = json.loads(line[len(_CLASSES):])
    only = _ONLY.search(text)
    return classes, (json.loads(only.group(1)) if only else list(classes))


def normalise(text: str) -> str:
    """The form names and sentences are compared in: NFC, case-folded, ``_``/``-`` as spaces, single spaces
    (:func:`dalda.names.normalise_text`), so an NFD folder name matches an NFC sentence."""
    return normalise_text(text)


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
        visible = normalise_text(sentence)
        if not visible:
            return "the sentence is empty"  # also: only white space or invisible characters
        if not any(character.isalnum() for character in visible):
            return "the sentence has no words, only punctuation or symbols"
        others = self.others_mentioned(sentence, own)
        if others:
            return "the sentence mentions another class of the dataset: " + ", ".join(repr(o) for o in others)
        return None
