"""``synthetic/filter.jsonl``: the filter stage's decision and its numbers, one line per synthetic image.

The measured numbers (``score``, ``top_label``, ``source_similarity``) are a cache keyed by the image's bytes
and the models that measured them, so re-running the filter with other thresholds re-decides without
re-measuring. ``kept`` and ``reasons`` are the decision under the thresholds of the last run; the manifest
carries the same decision in its ``filter`` column (:data:`FILTER_COLUMN`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dalda.artefacts._fields import from_mapping, to_mapping
from dalda.artefacts.errors import MissingArtefactError
from dalda.io import read_jsonl, write_jsonl_atomic
from dalda.rundir import RunDir

FILTER_COLUMN = "filter"
"""The manifest column the filter stage writes: ``"kept"`` or ``"rejected"``; training skips rejected images."""
KEPT = "kept"
REJECTED = "rejected"


def _file(source: RunDir | Path) -> Path:
    return source.filter_decisions if isinstance(source, RunDir) else Path(source)


@dataclass(frozen=True)
class FilterRecord:
    """One synthetic image's filter numbers and decision."""

    file_name: str
    """The image, relative to ``synthetic/`` (as in the manifest)."""
    row_id: int | None
    label: int
    sha256: str
    """Hash of the image's bytes: a regenerated image is measured again."""
    scorer: str
    """``filter.scorer``: the alignment scorer the score comes from."""
    scorer_model: str
    """The scorer's model identity (as ``clip_model`` in ``scores.jsonl``)."""
    score: float
    """The scorer's value of the image against its intended class, in [0, 1]."""
    top_label: int | None
    """The class the scorer's model ranks first; None for scorers that do not compare classes (vqa)."""
    source_similarity: float | None
    """Cosine of the CLIP image embeddings of the image and its source; None when the near-copy check is off."""
    similarity_model: str | None
    kept: bool
    reasons: list[str] = field(default_factory=list)
    """Why it was rejected: ``low_score``, ``other_class``, ``near_copy``; empty when kept."""
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, payload: Any) -> FilterRecord:
        return from_mapping(cls, payload, "a filter.jsonl line")

    def to_json(self) -> dict[str, Any]:
        return to_mapping(self)

    @classmethod
    def read_all(cls, source: RunDir | Path) -> list[FilterRecord]:
        path = _file(source)
        if not path.is_file():
            raise MissingArtefactError("filter decisions", path, "filter")
        return [cls.from_json(row) for row in read_jsonl(path)]

    @staticmethod
    def write_all(target: RunDir | Path, records: list[FilterRecord]) -> None:
        write_jsonl_atomic(_file(target), (record.to_json() for record in records))
