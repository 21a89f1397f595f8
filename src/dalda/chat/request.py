"""The request every chat backend answers (the authors' set-up) and the rule it states.

One request asks for a JSON object ``{class name: one sentence}``. The first request of a round asks for every
class; a repair request asks only for the classes still missing or rejected and says what was wrong, while
still listing every class of the dataset so the model knows which names to avoid. An offline backend reads
the two class lists back with :func:`read_request`. The names in a request are the *LLM-facing* names
(``DatasetSpec.llm_names``: "bass" is asked as "bass fish"); everything else keeps the dataset's names.

A sentence for class ``c`` must name no *other* class of the dataset, because a synthetic image of ``c`` whose
prompt names class ``d`` may show ``d`` and poison the training set (paper Sec. 3.3: "avoid representing
multiple in-distribution classes within a single prompt"). :class:`ClassNameMatcher` decides what counts as
naming a class. It is a documented heuristic on words, not a parser. Both texts are first normalised (Unicode
NFC; case-folded; ``_`` and ``-`` read as spaces; runs of white space collapsed; :mod:`dalda.names`), then:

- a class is *named* where one of its names (the dataset's name, and its LLM-facing name when it has one) occurs
  as whole words, the last word optionally in a plural form (``s``, ``es``, ``y`` -> ``ies``, ``f``/``fe`` ->
  ``ves``, and a few irregular plurals): "dogs" and "water lilies" name "dog" and "water lily"; "hotdog",
  "dogma" and "catalog" name nothing;
- occurrences inside an occurrence of the sentence's own class name do not count ("tiger cat" for class
  "tiger cat" does not name "cat"), and a class with the own class's normalised name is never counted;
- an occurrence of another class is *not* a mention when its words say it is not that thing:

  * verb use (one-word names): right after a subject pronoun, a modal verb, "to"/"not", or a plural noun
    ("tourists watch the sunset", "they watch", "she watches": *watch* is not the class *watch*);
  * quantity use: a container or measure noun followed by "of" and a bare noun ("a cup of coffee");
  * gaze idioms: "looks into / at / towards the camera", "poses for the camera";
  * compound modifier: the name right before a noun from :data:`COMPOUND_HEADS` ("bass guitar",
    "dog bed", "leopard print", "camera bag"), which names another thing.

- the own class named *only* as a compound modifier ("A musician slaps a bass guitar" for class "bass") is
  flagged too: the sentence is about the other thing, and the LLM-facing name ("bass fish") says which thing
  is meant. A sentence that does not name its own class at all is accepted (the paper's prompts often
  describe the scene only).

Limits: the rules look at one word on each side, so "the tourists' old watch" (possessive, then an adjective)
is a mention while "the dogs watch" is not, whatever the meaning; a sentence-initial imperative ("Watch the
birds") is a mention; fixed expressions beyond the lists ("hot dog" as food when "dog" is a class) are
mentions; a plural noun before a noun ("sports camera") reads as a subject, so "camera" there is not counted.
The lists are module constants so a false flag can be fixed by one word; ``prompts.validation=warn`` keeps
flagged sentences (and records them) when the heuristic is wrong for a dataset.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
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
MAX_SENTENCE_CHARS = 1000
"""The longest prompt sentence kept, in characters. The text encoder reads 77 tokens (about 300 characters), so a
longer sentence loses its end anyway; one far longer (a server answering megabytes) is no prompt at all and is
refused, or asked for again, like any invalid sentence."""
_CLASSES = "Classes of the dataset (a sentence must not mention any class other than its own): "
_ALL = "Write one sentence for every class above."
_ONLY = re.compile(r"^Write one sentence for each of these \d+ classes only: (.*)$", re.MULTILINE)


def build_messages(
    description: str, classes: list[str], wanted: list[str], feedback: dict[str, str] | None = None
) -> list[ChatMessage]:
    """System + user messages asking for one sentence for each class in ``wanted``.

    ``classes`` and ``wanted`` are the names the LLM sees (the LLM-facing names, :func:`llm_facing`).
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


def llm_facing(classes: list[str], llm_names: Mapping[str, str] | None) -> list[str]:
    """The names the LLM is asked with: each class's LLM-facing name where it has one, else its own name."""
    names = llm_names or {}
    return [names.get(name, name) for name in classes]


def normalise(text: str) -> str:
    """The form names and sentences are compared in: NFC, case-folded, ``_``/``-`` as spaces, single spaces
    (:func:`dalda.names.normalise_text`), so an NFD folder name matches an NFC sentence."""
    return normalise_text(text)


SUBJECT_WORDS = frozenset(
    "i you we they he she it who people can could will would shall should may might must to not don't "
    "doesn't didn't won't can't cannot never often always".split()
)
"""A one-word class name right after one of these words is read as a verb ("they watch", "to watch")."""
NOT_PLURAL = frozenset(
    "as was has does is this his its hers ours yours theirs yes us plus thus whereas across perhaps sometimes "
    "towards afterwards besides upwards downwards backwards forwards outwards inwards news series species "
    "always".split()
)
"""Words ending in ``s`` that are not plural nouns, so a class name after them is not read as a verb."""
QUANTITY_NOUNS = frozenset(
    "cup mug glass bowl bottle jar pot pitcher jug basket bucket box bag plate tray can carton crate barrel "
    "handful pile stack heap bunch piece slice loaf bar pack packet spoonful cupful".split()
)
"""Container and measure nouns: "a cup of coffee" shows coffee, not the class *cup* (the quantity use)."""
DETERMINERS = frozenset("a an the this that these those his her its their our my your some every each".split())
GAZE_NOUNS = frozenset({"camera", "lens"})
_GAZE = re.compile(
    r"(?:^|\s)(?:look|looks|looking|looked|stare|stares|staring|stared|gaze|gazes|gazing|gazed|glance|glances|"
    r"glancing|glanced|smile|smiles|smiling|smiled|pose|poses|posing|posed|peer|peers|peering|peered|wave|waves|"
    r"waving|waved|grin|grins|grinning)(?: straight| directly)? (?:into|at|toward|towards|to|for) the $"
)
COMPOUND_HEADS = frozenset(
    "guitar guitars player players drum drums line lines clef amp amps amplifier amplifiers solo string strings "
    "speaker speakers boat boats lure lures bed beds bowl bowls food toy toys collar collars leash leashes "
    "house houses kennel kennels door doors cage cages crate crates print prints pattern patterns costume "
    "costumes mask masks logo logos sticker stickers poster posters tattoo tattoos shaped bag bags case cases "
    "strap straps".split()
)
"""Nouns that, right after a class name, make a compound naming another thing ("bass guitar", "dog bed")."""
IRREGULAR_PLURALS = {
    "mouse": "mice", "goose": "geese", "foot": "feet", "tooth": "teeth", "man": "men", "woman": "women",
    "child": "children", "person": "people", "ox": "oxen", "louse": "lice", "cactus": "cacti",
}  # fmt: skip


def _word_forms(word: str) -> list[str]:
    """``word`` and its plural forms, longest first (see the module docstring)."""
    forms = {word, word + "s", word + "es"}
    if len(word) > 1 and word.endswith("y") and word[-2] not in "aeiou":
        forms.add(word[:-1] + "ies")
    if word.endswith("fe"):
        forms.add(word[:-2] + "ves")
    elif word.endswith("f"):
        forms.add(word[:-1] + "ves")
    if word in IRREGULAR_PLURALS:
        forms.add(IRREGULAR_PLURALS[word])
    return sorted(forms, key=lambda form: (-len(form), form))


def _name_pattern(norm: str) -> re.Pattern[str]:
    words = norm.split()
    last = "(?P<last>" + "|".join(map(re.escape, _word_forms(words[-1]))) + ")"
    head = "".join(re.escape(word) + r"\s" for word in words[:-1])
    return re.compile(r"(?<!\w)" + head + last + r"(?!\w)")


@dataclass(frozen=True)
class _Occurrence:
    start: int
    end: int
    form: str
    """The normalised name that matched (the dataset's name or the LLM-facing one)."""
    word: str
    """The matched text of the name's last word (its singular or a plural form)."""


class ClassNameMatcher:
    """Finds mentions of a dataset's class names in a sentence, following the module's mention rule.

    ``llm_names`` maps a class to its LLM-facing name; a class is then found by either name, and messages
    (the repair feedback the LLM reads) use the LLM-facing name.
    """

    def __init__(self, classes: list[str], llm_names: Mapping[str, str] | None = None) -> None:
        self.classes = list(classes)
        self.llm_names = {name: llm for name, llm in (llm_names or {}).items() if name in self.classes}
        self._names = {name: normalise(name) for name in self.classes}
        self._forms: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
        for name in self.classes:
            forms = [self._names[name], normalise(self.llm_names.get(name, name))]
            unique = [form for index, form in enumerate(forms) if form and form not in forms[:index]]
            self._forms[name] = [(form, _name_pattern(form)) for form in unique]

    def shown(self, name: str) -> str:
        """How a class is called in messages: its LLM-facing name, else its own."""
        return self.llm_names.get(name, name)

    def _occurrences(self, name: str, text: str) -> list[_Occurrence]:
        """Every occurrence of either name of class ``name`` in ``text``, in text order, longer ones first."""
        found = [
            _Occurrence(match.start(), match.end(), form, match.group("last"))
            for form, pattern in self._forms.get(name, [])
            for match in pattern.finditer(text)
        ]
        return sorted(found, key=lambda occurrence: (occurrence.start, occurrence.start - occurrence.end))

    def _excused(self, found: _Occurrence, text: str) -> bool:
        """Whether the words around ``found`` say it is not the class (verb, quantity, gaze idiom, compound)."""
        before, after = text[: found.start], text[found.end :]
        previous = re.search(r"(?:^|\s)([\w']+) $", before)
        following = re.match(r" ([\w']+)(?: ([\w']+))?", after)
        prev_word = previous.group(1) if previous else ""
        next_word = following.group(1) if following else ""
        one_word = " " not in found.form
        if one_word and prev_word and found.word in (found.form, found.form + "s", found.form + "es"):
            plural_subject = (
                len(prev_word) > 2 and prev_word.endswith("s") and "'" not in prev_word
                and not prev_word.endswith(("ss", "us", "is", "ous")) and prev_word not in NOT_PLURAL
            )  # fmt: skip
            if prev_word in SUBJECT_WORDS or (plural_subject and found.word == found.form):
                return True
        if one_word and found.form in QUANTITY_NOUNS and next_word == "of" and following and following.group(2):
            if following.group(2) not in DETERMINERS:
                return True
        if found.form in GAZE_NOUNS and _GAZE.search(before):
            return True
        return next_word in COMPOUND_HEADS

    def mentions(self, sentence: str, own: str) -> dict[str, str]:
        """The other classes that ``sentence``, written for class ``own``, names (in class order), each with
        the words that name it."""
        text = normalise(sentence)
        own_norm = normalise(own)
        own_spans = [(found.start, found.end) for found in self._occurrences(own, text)]
        named: dict[str, str] = {}
        for name in self.classes:
            if self._names[name] == own_norm:
                continue
            for found in self._occurrences(name, text):
                inside_own = any(start <= found.start and found.end <= end for start, end in own_spans)
                if not inside_own and not self._excused(found, text):
                    named[name] = text[found.start : found.end]
                    break
        return named

    def others_mentioned(self, sentence: str, own: str) -> list[str]:
        """The other classes that ``sentence``, written for class ``own``, names (in class order)."""
        return list(self.mentions(sentence, own))

    def own_only_as_modifier(self, sentence: str, own: str) -> str | None:
        """The compound ("bass guitar") when the sentence names its own class only as a modifier of another
        noun, else None (also when it does not name its class at all)."""
        text = normalise(sentence)
        found = self._occurrences(own, text)
        if not found:
            return None
        compounds = []
        for occurrence in found:
            following = re.match(r" ([\w']+)", text[occurrence.end :])
            if following is None or following.group(1) not in COMPOUND_HEADS:
                return None
            compounds.append(text[occurrence.start : occurrence.end] + " " + following.group(1))
        return compounds[0]

    def sentence_problem(self, sentence: Any) -> str | None:
        """Why ``sentence`` is no sentence at all (not a string, empty, no words), or None."""
        if not isinstance(sentence, str):
            return f"the answer for it is a {type(sentence).__name__}, not a sentence"
        visible = normalise_text(sentence)
        if not visible:
            return "the sentence is empty"  # also: only white space or invisible characters
        if not any(character.isalnum() for character in visible):
            return "the sentence has no words, only punctuation or symbols"
        if len(visible) > MAX_SENTENCE_CHARS:
            return (f"the sentence is {len(visible):,} characters long, more than the {MAX_SENTENCE_CHARS} a prompt "
                    "may have; write one short sentence")
        return None

    def mention_problem(self, sentence: str, own: str) -> str | None:
        """Why the sentence breaks the mention rule for class ``own`` (the validator's flag), or None."""
        others = self.mentions(sentence, own)
        if others:
            named = ", ".join(
                repr(self.shown(other)) + ("" if words == normalise(self.shown(other)) else f" (as {words!r})")
                for other, words in others.items()
            )
            return "the sentence mentions another class of the dataset: " + named
        compound = self.own_only_as_modifier(sentence, own)
        if compound is not None:
            return (
                f"the sentence names {self.shown(own)!r} only in {compound!r}, which is another thing; "
                f"describe a {self.shown(own)}"
            )
        return None

    def problem(self, sentence: Any, own: str) -> str | None:
        """Why ``sentence`` is not an acceptable prompt for ``own``, or None when it is."""
        return self.sentence_problem(sentence) or self.mention_problem(sentence, own)
