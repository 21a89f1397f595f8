"""An extension entry's own settings: the typed model every entry of every axis declares beside its code.

A generator, scorer, λ sampler, chat backend, probe, metric or dataset that has knobs declares them as a
subclass of :class:`EntrySettings` (its ``settings_model`` attribute), with its defaults, the way diffusers' models keep their ``register_to_config``
values and timm's models their own configs. The central config (``dalda.config``) only chooses entries: the
chosen entry's settings sit beside the choice in the same section (``generator: {name: da-fusion, steps: 50}``),
``dalda.configure`` validates them with the entry's model, and the resolved values are what ``config.yaml``, the
manifest, the results and the report record. ``docs/extending.md`` shows an entry with settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

S = TypeVar("S", bound="EntrySettings")


class HasEntryValues(Protocol):
    """A config section that holds the chosen entry's settings beside its own fields."""

    def entry_values(self) -> dict[str, Any]: ...


class EntrySettings(BaseModel):
    """Base class of an entry's settings: unknown keys are refused, assignments are validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    @classmethod
    def of(cls: type[S], source: HasEntryValues | Mapping[str, Any]) -> S:
        """The settings held by a config section that chose this entry (or by a plain mapping of values).

        Sections built by ``dalda.configure.build_config`` hold every setting resolved, so this only parses; a
        hand-made mapping gets the defaults for what it leaves out.
        """
        values = source.entry_values() if hasattr(source, "entry_values") else dict(source)
        return cls.model_validate(values)


class NoSettings(EntrySettings):
    """The settings of an entry that has none."""


def settings_model(entry: object) -> type[EntrySettings]:
    """The settings class an entry declares as its ``settings_model`` attribute (:class:`NoSettings` when it has
    none)."""
    declared = getattr(entry, "settings_model", None)
    if declared is None:
        return NoSettings
    if not (isinstance(declared, type) and issubclass(declared, EntrySettings)):
        raise TypeError(
            f"{type(entry).__name__}.settings_model must be a subclass of dalda.settings.EntrySettings, not "
            f"{declared!r}"
        )
    return declared
