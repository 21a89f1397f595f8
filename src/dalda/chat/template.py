"""The ``template`` chat backend: prompts without an LLM, the offline default (not an LLM: ``is_llm=False``).

Each prompt puts the class in a scene built from four lists (view, place, light/colour, something happening
around it or in the foreground), the kinds of external elements the paper asks the LLM to add (Sec. 3.3).
The elements describe the scene, never the subject, so they fit an animal, a flower or an object alike and
keep the class's own properties. Choices are drawn by a RNG seeded from ``seed`` and the class name, so a class
gets the same prompts whatever the other classes are; any candidate that would name another class of the
dataset (by the rule in :mod:`dalda.chat.request`) is skipped.

It answers the same request as an LLM (so the prompts stage treats every backend alike): round ``r`` of the
stage asks every class once, and the template answers each class with its ``r``-th prompt.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from typing import Any

from dalda.chat.protocol import BackendError, ChatBackendSpec, ChatMessage, ChatReply
from dalda.chat.request import ClassNameMatcher, read_request
from dalda.config import DaldaConfig
from dalda.settings import NoSettings

VIEWS = (
    "A close-up photo",
    "A wide-angle photo",
    "A side view",
    "A top-down view",
    "A low-angle shot",
    "A candid snapshot",
    "A telephoto shot",
    "A front view",
    "An eye-level photo",
    "A three-quarter view",
)
PLACES = (
    "on a wooden table",
    "in a sunny garden",
    "in a quiet living room",
    "on a busy city street",
    "in a forest clearing",
    "on a sandy beach",
    "in a snowy field",
    "in a brightly lit studio",
    "next to a large window",
    "in a public park",
    "on a stone path",
    "by a calm lake",
    "in a grassy meadow",
    "on a rooftop terrace",
    "in a rustic barn",
)
EXTRAS = (
    "in warm golden-hour light",
    "under soft overcast light",
    "with a pastel colour palette",
    "in vivid saturated colours",
    "with muted earthy tones",
    "at dusk with cool blue tones",
    "with dappled sunlight on the ground",
    "with out-of-focus leaves in the foreground",
    "partly framed by an open doorway",
    "while light rain falls",
    "as people walk by in the background",
    "while a gentle breeze moves the grass",
    "with mist drifting in the background",
    "with long shadows across the scene",
)


def template_fingerprint() -> str:
    """A short hash of the word lists, so cached template prompts are redone when the lists change."""
    text = "\n".join("|".join(words) for words in (VIEWS, PLACES, EXTRAS))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _with_article(name: str) -> str:
    """``a``/``an`` + name; plural-looking names (ending in s but not ss/us/is) get none. A heuristic."""
    lowered = name.lower()
    if lowered.endswith("s") and not lowered.endswith(("ss", "us", "is")):
        return name
    return ("an " if lowered[:1] in "aeiou" else "a ") + name


def template_sentence(name: str, view: str, place: str, extra: str) -> str:
    display = " ".join(name.replace("_", " ").split())
    return f"{view} of {_with_article(display)} {place}, {extra}."


def template_prompts(classes: list[str], num_prompts: int, seed: int) -> dict[str, list[str]]:
    """``num_prompts`` distinct prompts per class, deterministic in (seed, class); see the module docstring."""
    matcher = ClassNameMatcher(classes)
    combos = [(v, p, e) for v in VIEWS for p in PLACES for e in EXTRAS]
    if num_prompts > len(combos):
        raise BackendError(
            f"prompts.num_prompts={num_prompts} exceeds the {len(combos)} distinct template prompts; "
            "lower it or use an LLM backend"
        )
    table: dict[str, list[str]] = {}
    for name in classes:
        rng = random.Random(f"dalda-template:{seed}:{name}")
        prompts: list[str] = []
        for view, place, extra in rng.sample(combos, len(combos)):
            sentence = template_sentence(name, view, place, extra)
            if matcher.problem(sentence, name) is None:
                prompts.append(sentence)
                if len(prompts) == num_prompts:
                    break
        if len(prompts) < num_prompts:
            raise BackendError(
                f"only {len(prompts)} template prompts for class {name!r} avoid naming the other classes; "
                f"lower prompts.num_prompts to {len(prompts)} or use an LLM backend"
            )
        table[name] = prompts
    return table


class TemplateChatBackend:
    """Answers a prompts request from :func:`template_prompts`: each class's next prompt, deterministically."""

    name = "template"
    secrets: tuple[str, ...] = ()

    def __init__(self, num_prompts: int, seed: int) -> None:
        self.num_prompts = num_prompts
        self.seed = seed
        self._tables: dict[tuple[str, ...], dict[str, list[str]]] = {}
        self._answered: Counter[str] = Counter()

    def complete(self, messages: list[ChatMessage]) -> ChatReply:
        classes, wanted = read_request(messages)
        key = tuple(classes)
        if key not in self._tables:
            self._tables[key] = template_prompts(classes, self.num_prompts, self.seed)
        table = self._tables[key]
        answer = {}
        for name in wanted:
            answer[name] = table[name][self._answered[name]]
            self._answered[name] += 1
        return ChatReply(text=json.dumps(answer, ensure_ascii=False), details={"model": None})


def template_key(config: DaldaConfig, settings: NoSettings) -> dict[str, Any]:
    """The seed and the word lists: all the template prompts depend on."""
    return {"model": None, "parameters": {"seed": config.seed, "templates": template_fingerprint()}}


def build_template(config: DaldaConfig, settings: NoSettings) -> TemplateChatBackend:
    return TemplateChatBackend(config.prompts.num_prompts, config.seed)


TEMPLATE = ChatBackendSpec("template", is_llm=False, fingerprint=template_key, build=build_template)
