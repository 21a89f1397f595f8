"""Turning a record dataclass into the JSON object a run-directory file holds, and back, keys in file order.

Each artefact dataclass declares its fields in the order today's writer emits them, so writing a record read
from a file gives the same bytes. Keys a newer writer added (and this version does not know) are kept in an
``extra`` mapping and written back after the known ones. A field marked :data:`NOT_STORED` (where an
in-memory record is saved, the secrets it masks) never goes to the file.
"""

from __future__ import annotations

from dataclasses import MISSING, Field, fields
from typing import Any, TypeVar

T = TypeVar("T")

NOT_STORED = {"stored": False}
"""``field(metadata=NOT_STORED)``: a field the record keeps in memory only."""


def _stored(cls_or_record: Any) -> list[Field[Any]]:
    return [f for f in fields(cls_or_record) if f.name != "extra" and f.metadata.get("stored", True)]


def from_mapping(cls: type[T], payload: Any, where: object) -> T:
    """Build ``cls`` from a JSON object; unknown keys go to its ``extra`` field when it has one."""
    if not isinstance(payload, dict):
        raise ValueError(f"{where} is not a JSON object")
    stored = _stored(cls)
    names = {f.name for f in stored}
    known = {key: value for key, value in payload.items() if key in names}
    missing = [
        f.name for f in stored if f.name not in known and f.default is MISSING and f.default_factory is MISSING
    ]
    if missing:
        raise ValueError(f"{where} lacks the fields {missing}")
    if any(f.name == "extra" for f in fields(cls)):  # type: ignore[arg-type]
        known["extra"] = {key: value for key, value in payload.items() if key not in names}
    return cls(**known)


def to_mapping(record: Any) -> dict[str, Any]:
    """The JSON object of a record: its stored fields in declaration order, then its ``extra`` keys."""
    payload = {f.name: getattr(record, f.name) for f in _stored(record)}
    payload.update(getattr(record, "extra", {}))
    return payload
