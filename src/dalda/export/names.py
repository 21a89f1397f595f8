"""File and folder names of an export that every filesystem accepts.

A class name can hold anything a folder name may hold on the user's system (spaces, ``:``, non-ASCII letters,
255 bytes); the export must also unpack on Windows, on FAT-formatted drives and inside a Hub repository. So a name
keeps ASCII letters, digits, ``.``, ``-`` and ``_`` (anything else becomes ``_``), is cut to
:data:`MAX_NAME_BYTES`, never is a name Windows reserves (``CON``, ``NUL``, ``COM1``, ...), and two classes whose
names reduce to the same text get their label appended, so each class keeps its own folder.
"""

from __future__ import annotations

import re

MAX_NAME_BYTES = 100
"""Longest folder or file stem written, well under every filesystem's 255 bytes, so a path of a few levels fits."""

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{kind}{n}" for kind in ("COM", "LPT") for n in range(1, 10)}


def safe_name(text: str, fallback: str = "item") -> str:
    """``text`` reduced to a portable file name (rules in the module docstring); ``fallback`` when nothing is left."""
    name = _UNSAFE.sub("_", text).strip("._ ")[:MAX_NAME_BYTES].rstrip("._ ") or fallback
    return f"_{name}" if name.split(".")[0].upper() in _RESERVED else name


def class_folders(classes: list[str]) -> list[str]:
    """One distinct, portable folder name per class, in the classes' order (compared case-insensitively, since
    macOS and Windows do)."""
    folders: list[str] = []
    taken: set[str] = set()
    for label, name in enumerate(classes):
        folder = safe_name(name, "class")
        if folder.lower() in taken:
            folder = f"{folder[: MAX_NAME_BYTES - 8]}-{label}"
        taken.add(folder.lower())
        folders.append(folder)
    return folders
