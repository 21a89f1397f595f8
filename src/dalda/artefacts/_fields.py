"""Turning a record dataclass into the JSON object a run-directory file holds, and back, keys in file order.

Each artefact dataclass declares its fields in the order today's writer emits them, so writing a record read
from a file gives the same bytes. Keys a newer writer added (and this version does not know) are kept in an
``extra`` mapping and written back after the known ones.
"""

from __future__ import annotations

from dataclasses import MISSING, fields
from typing import Any, TypeVar

T = TypeVar("T")


def from_mapping(cls: type[T], payload: Any, where: object) -> T:
    """Build ``cls`` from a JSON object; unknown keys go to its ``extra`` field when it has one."""
    if not isinstance(payload, dict):
        raise ValueError(f"{where} is not a JSON object")
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    known = {key: value for key, value in payload.items() if key in names and key != "extra"}
    missing = [
        f.name for f in fields(cls)  # type: ignore[arg-type]
        if f.name not in known and f.name != "extra" and f.default is MISSING and f.default_factory is MISSING
    ]
    if missing:
        raise ValueError(f"{where} lacks the fields {missing}")
    if "extra" in names:
        known["extra"] = {key: value for key, value in payload.items() if key not in names}
    return cls(**known)


def to_mapping(record: Any) -> dict[str, Any]:
    """The JSON object of a record: its fields in declaration order, then its ``extra`` keys."""
    payload = {f.name: getattr(record, f.name) for f in fields(record) if f.name != "extra"}
    payload.update(getattr(record, "extra", {}))
    return payload
