"""``classes.json`` (in the run and in ``synthetic/``): dalda's class order, for tools outside dalda.

Labels in ``split.json``, ``plan.jsonl`` and ``synthetic/manifest.jsonl`` are indices into the dataset's class
list. This file states that list once, as ``names`` (index order, as a ``datasets.ClassLabel`` takes it) and
``class_to_idx`` (as torchvision's ``ImageFolder`` reports it), so a user mixing dalda's outputs with other
loaders can map names to dalda's labels instead of trusting an alphabetical folder order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dalda.artefacts.record import JsonRecord
from dalda.rundir import RunDir


@dataclass(frozen=True)
class ClassNames(JsonRecord):
    WHAT = "class list"
    MADE_BY = "generate"

    names: list[str]
    """Class names in label order: ``names[label]``."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Keys a newer version wrote, kept and written back last."""

    @classmethod
    def file(cls, run: RunDir) -> Path:
        """The run's copy; ``synthetic/classes.json`` (beside the images) is written from the same record."""
        return run.classes

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {name: index for index, name in enumerate(self.names)}

    def to_json(self) -> dict[str, Any]:
        return {"names": list(self.names), "class_to_idx": self.class_to_idx, **self.extra}

    @classmethod
    def from_json(cls, payload: Any, where: object = "a JSON record") -> ClassNames:
        names = payload.get("names") if isinstance(payload, dict) else None
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            raise ValueError(f"{where}: 'names' must be a list of class names; delete it and rerun `dalda generate`")
        return cls(names, {key: value for key, value in payload.items() if key not in ("names", "class_to_idx")})
