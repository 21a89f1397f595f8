"""The one form class names are compared in: Unicode NFC, case-folded, ``_``/``-`` as spaces, single spaces.

Folder names from macOS come in NFD ("Lo\u0308we"), LLM answers in NFC ("Löwe"); users write "golden_retriever",
"golden-retriever" and "Golden Retriever" for one thing. Every place that asks "is this the same class name?"
(the dataset's uniqueness check, the "names another class" check of prompts) uses :func:`name_key`, so a
dataset whose names collide in this form is refused at the data stage rather than matched ambiguously later.
"""

from __future__ import annotations

import re
import unicodedata

_SEPARATORS = re.compile(r"[_\-]")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
"""Zero-width and soft-hyphen characters: invisible in any display, so never part of a name or a sentence."""


def normalise_text(text: str) -> str:
    """``text`` in NFC, case-folded (NFC again after folding), without invisible characters, with ``_``/``-`` as
    spaces and runs of white space collapsed to one space."""
    folded = unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).casefold())
    return " ".join(_SEPARATORS.sub(" ", folded.translate(_INVISIBLE)).split())


def name_key(name: str) -> str:
    """The key two class names must not share (see the module docstring)."""
    return normalise_text(name)


def colliding_names(names: list[str]) -> list[list[str]]:
    """Groups of two or more names in ``names`` with one :func:`name_key` (in order of first appearance)."""
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(name_key(name), []).append(name)
    return [group for group in groups.values() if len(group) > 1]
