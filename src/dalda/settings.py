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

GPU_LIMIT = "gpu_limit"
"""Key of a numeric field's ``json_schema_extra``: the largest value one GPU holds (a size in pixels, a batch);
larger values up to the field's hard bound need ``models.allow_oversize=true`` (``dalda.configure`` checks)."""
UNIT = "unit"
"""Key of a numeric field's ``json_schema_extra``: the unit its error messages name (px, s, GB)."""


def sized(unit: str, gpu_limit: int | None = None) -> dict[str, Any]:
    """The ``json_schema_extra`` of a numeric field measured in ``unit`` that one GPU holds up to ``gpu_limit``."""
    return {UNIT: unit} | ({GPU_LIMIT: gpu_limit} if gpu_limit is not None else {})


def past_gpu_limit(values: BaseModel, prefix: str = "") -> list[str]:
    """One line per numeric field of ``values`` (sections below included) above its :data:`GPU_LIMIT`, naming the
    field (``prefix`` + its name), the value, the limit and the setting that allows it anyway."""
    found = []
    for name, info in type(values).model_fields.items():
        value = getattr(values, name)
        if isinstance(value, BaseModel):
            found += past_gpu_limit(value, f"{prefix}{name}.")
            continue
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        limit = extra.get(GPU_LIMIT)
        if limit is not None and isinstance(value, int | float) and value > limit:
            unit = f" {extra[UNIT]}" if UNIT in extra else ""
            found.append(f"{prefix}{name}={value} is more than one GPU holds (at most {limit}{unit}); lower it, or "
                         "set models.allow_oversize=true to use it anyway")
    return found


class HasEntryValues(Protocol):
    """A config section that holds the chosen entry's settings beside its own fields."""

    def entry_values(self) -> dict[str, Any]: ...


class EntrySettings(BaseModel):
    """Base class of an entry's settings: unknown keys are refused, assignments are validated, NaN and infinity
    are refused for every number (each numeric setting also declares its range: ``tests/hostile`` checks that)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

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
