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

from dalda.artefacts.record import JsonRecord
from dalda.rundir import RunDir


@dataclass(frozen=True)
class MethodRecord(JsonRecord):
    WHAT = "planned method"
    MADE_BY = "plan"

    name: str
    """The method's label (``llm-ags``, ``template-fixed-0.3``, ``da-fusion``)."""
    title: str
    prompt_source: str | None = None
    sampler: str | None = None
    """``guidance.strategy`` of a λ method; None otherwise."""
    generator: str | None = None
    fixed_lambda: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def file(cls, run: RunDir) -> Path:
        return run.planned_method

    @classmethod
    def remove(cls, target: RunDir | Path) -> None:
        """Drop the record of an earlier plan (the plan stage does this before it replaces the plan)."""
        cls.path_of(target).unlink(missing_ok=True)
