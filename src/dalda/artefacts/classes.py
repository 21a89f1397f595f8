"""``classes.json`` (in the run and in ``synthetic/``): dalda's class order, for tools outside dalda.

Labels in ``split.json``, ``plan.jsonl`` and ``synthetic/metadata.jsonl`` are indices into the dataset's class
list. This file states that list once, as ``names`` (index order, as a ``datasets.ClassLabel`` takes it) and
``class_to_idx`` (as torchvision's ``ImageFolder`` reports it), so a user mixing dalda's outputs with other
loaders can map names to dalda's labels instead of trusting an alphabetical folder order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dalda.artefacts.errors import MissingArtefactError
from dalda.io import read_json, write_json_atomic


@dataclass(frozen=True)
class ClassNames:
    names: list[str]
    """Class names in label order: ``names[label]``."""

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {name: index for index, name in enumerate(self.names)}

    def to_json(self) -> dict[str, Any]:
        return {"names": list(self.names), "class_to_idx": self.class_to_idx}

    def write(self, path: Path) -> None:
        write_json_atomic(Path(path), self.to_json())

    @classmethod
    def read(cls, path: Path) -> ClassNames:
        path = Path(path)
        if not path.is_file():
            raise MissingArtefactError("class list", path, "generate")
        payload = read_json(path)
        names = payload.get("names") if isinstance(payload, dict) else None
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            raise ValueError(f"{path}: 'names' must be a list of class names; delete it and rerun `dalda generate`")
        return cls(names)
