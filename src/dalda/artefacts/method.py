"""``method.json``: the method that made the run's plan, written by the plan stage beside ``plan.jsonl``.

A run's method follows from its config (``dalda.methods``), but a later command may run with other overrides
(``dalda evaluate -s guidance.strategy=random``) and a finished run's ``config.yaml`` is the last command's. The
synthetic images were made by the method that made the plan, so the plan stage records that method's label here
and the evaluate stage and the report read it back. It holds plain values (the name and title, and the prompt
source, λ sampler and generator they stand for), so it reads without any registry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dalda.artefacts._fields import from_mapping, to_mapping
from dalda.artefacts.errors import MissingArtefactError
from dalda.io import read_json, write_json_atomic
from dalda.rundir import RunDir


def _file(source: RunDir | Path) -> Path:
    return source.planned_method if isinstance(source, RunDir) else Path(source)


@dataclass(frozen=True)
class MethodRecord:
    name: str
    """The method's label (``llm-ags``, ``template-fixed-0.3``, ``da-fusion``)."""
    title: str
    prompt_source: str | None = None
    sampler: str | None = None
    """``guidance.strategy`` of a λ method; None otherwise."""
    generator: str | None = None
    fixed_lambda: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def write(self, target: RunDir | Path) -> None:
        write_json_atomic(_file(target), to_mapping(self))

    @classmethod
    def read(cls, source: RunDir | Path) -> MethodRecord:
        path = _file(source)
        if not path.is_file():
            raise MissingArtefactError("planned method", path, "plan")
        return from_mapping(cls, read_json(path), path)

    @classmethod
    def read_optional(cls, source: RunDir | Path) -> MethodRecord | None:
        """The record, or None for a run planned before it existed (or an unreadable file)."""
        try:
            return cls.read(source)
        except (MissingArtefactError, ValueError):
            return None

    @staticmethod
    def remove(target: RunDir | Path) -> None:
        """Drop the record of an earlier plan (the plan stage does this before it replaces the plan)."""
        _file(target).unlink(missing_ok=True)
