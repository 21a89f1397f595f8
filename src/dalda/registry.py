"""A name -> spec table, the one shape every extension point of dalda has (timm / torchvision style).

Each axis a researcher extends (generators, alignment scorers, datasets, probes, chat backends, diversity
metrics, methods) keeps its entries in one :class:`Registry`. An entry is a complete spec object, so adding one
is one new module plus one ``REGISTRY.register(spec)`` call; every stage, the CLI, the grid runner and the
report look entries up here instead of branching on strings (see ``docs/extending.md``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class UnknownEntryError(ValueError):
    """A name that no entry of the registry has; the message lists the names that exist."""


class Registry(Generic[T]):
    """Entries by name, in registration order. ``kind`` names the axis in error messages ("generator")."""

    def __init__(self, kind: str, setting: str | None = None) -> None:
        self.kind = kind
        self.setting = setting
        """The config field that picks an entry (e.g. ``generator.name``), named in error messages."""
        self._entries: dict[str, T] = {}

    def register(self, name: str, entry: T, *, replace: bool = False) -> T:
        """Add ``entry`` under ``name``; a second entry with the same name is an error unless ``replace``."""
        if name in self._entries and not replace:
            raise ValueError(f"a {self.kind} named {name!r} is already registered")
        self._entries[name] = entry
        return entry

    def unregister(self, name: str) -> None:
        """Remove an entry (tests that register a toy entry clean up with this)."""
        self._entries.pop(name, None)

    def get(self, name: str) -> T:
        if name not in self._entries:
            where = f"{self.setting}={name!r}" if self.setting else f"{self.kind} {name!r}"
            raise UnknownEntryError(f"{where} is not a known {self.kind}; choose one of {self.names()}")
        return self._entries[name]

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def items(self) -> list[tuple[str, T]]:
        return list(self._entries.items())

    def __len__(self) -> int:
        return len(self._entries)
