"""A name -> entry table, the one shape every extension point of dalda has (timm / torchvision style).

Each axis a researcher extends (generators, alignment scorers, λ samplers, datasets, probes, chat backends,
metrics) keeps its entries in one :class:`Registry`. An entry is a complete spec object that declares its own
settings (``dalda.settings``), so adding one is one new module plus one ``REGISTRY.register(name, entry)`` call;
every stage, the CLI, the grid runner and the report look entries up here instead of branching on strings.

Entries can also come from installed packages: a registry with an entry-point ``group`` (``dalda.generators``,
``dalda.scorers``, ...) adds every entry point of that group the first time it is asked for an entry. Every
process that looks an entry up (the CLI, the Python API, ``python -m dalda.generation`` under torchrun or
accelerate, a Slurm or submitit task) therefore sees the same table. ``docs/extending.md`` shows a plugin package.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import metadata
from typing import Generic, TypeVar

from dalda.settings import EntrySettings, settings_model

T = TypeVar("T")


class UnknownEntryError(ValueError):
    """A name that no entry of the registry has; the message lists the names that exist."""


class PluginError(RuntimeError):
    """An installed plugin's entry point could not be loaded or clashes with an entry already registered."""


class Registry(Generic[T]):
    """Entries by name, in registration order (built-ins first, then plugins by entry-point name).

    ``kind`` names the axis in error messages ("generator"); ``setting`` is the config field that picks an entry
    (``generator.name``); ``group`` is the entry-point group plugins register under (None: no plugins).
    """

    def __init__(self, kind: str, setting: str | None = None, group: str | None = None) -> None:
        self.kind = kind
        self.setting = setting
        self.group = group
        self._entries: dict[str, T] = {}
        self._plugins_loaded = group is None

    def register(self, name: str, entry: T, *, replace: bool = False) -> T:
        """Add ``entry`` under ``name``; a second entry with the same name is an error unless ``replace``."""
        if name in self._entries and not replace:
            raise ValueError(f"a {self.kind} named {name!r} is already registered")
        settings_model(entry)  # a malformed ``settings_model`` attribute fails here, not at the first config
        self._entries[name] = entry
        return entry

    def unregister(self, name: str) -> None:
        """Remove an entry (tests that register a toy entry clean up with this)."""
        self._entries.pop(name, None)

    def _table(self) -> dict[str, T]:
        if not self._plugins_loaded:
            self._plugins_loaded = True
            self._load_plugins()
        return self._entries

    def _load_plugins(self) -> None:
        """Register every entry point of :attr:`group` (an entry point names an entry object or a class whose
        no-argument instance is the entry)."""
        for point in metadata.entry_points(group=self.group):
            where = f"entry point {point.name} = {point.value} (group {self.group}" + (
                f", package {point.dist.name})" if point.dist is not None else ")"
            )
            if point.name in self._entries:
                raise PluginError(f"{where} is named like a {self.kind} that is already registered; rename it")
            try:
                entry = point.load()
                if isinstance(entry, type):
                    entry = entry()
                self.register(point.name, entry)
            except Exception as error:  # a broken plugin names itself instead of failing somewhere inside it
                raise PluginError(f"{where} failed to load: {type(error).__name__}: {error}") from error

    def get(self, name: str) -> T:
        table = self._table()
        if name not in table:
            where = f"{self.setting}={name!r}" if self.setting else f"{self.kind} {name!r}"
            raise UnknownEntryError(f"{where} is not a known {self.kind}; choose one of {self.names()}")
        return table[name]

    def settings_model(self, name: str) -> type[EntrySettings]:
        """The settings class of the entry called ``name``."""
        return settings_model(self.get(name))

    def names(self) -> list[str]:
        return sorted(self._table())

    def __contains__(self, name: object) -> bool:
        return name in self._table()

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._table()))

    def items(self) -> list[tuple[str, T]]:
        return list(self._table().items())

    def __len__(self) -> int:
        return len(self._table())
