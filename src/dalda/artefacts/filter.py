"""``synthetic/filter.jsonl``: the filter stage's decision and its numbers, one line per synthetic image.

The measured numbers (``score``, ``top_label``, ``source_similarity``) are a cache keyed by the image's bytes
and the models that measured them, so re-running the filter with other thresholds re-decides without
re-measuring. ``kept`` and ``reasons`` are the decision under the thresholds of the last run. This file is the
only place the decisions live: the filter never touches generate's manifest, and training reads them here
(:meth:`FilterRecord.by_image`). Manifests of runs filtered by earlier versions carry a ``filter`` column as
well; nothing reads it any more.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dalda.artefacts.record import JsonLinesRecord
from dalda.hashing import file_sha256
from dalda.rundir import RunDir


@dataclass(frozen=True)
class FilterRecord(JsonLinesRecord):
    """One synthetic image's filter numbers and decision."""

    WHAT = "filter decisions"
    MADE_BY = "filter"

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
    def file(cls, run: RunDir) -> Path:
        return run.filter_decisions

    @classmethod
    def by_image(cls, source: RunDir | Path) -> dict[str, FilterRecord]:
        """The decisions by ``file_name``; empty when the filter never ran. A decision is about the bytes it
        judged (``sha256``): an image generated again since is not judged yet."""
        return {record.file_name: record for record in cls.read_all(source, missing_ok=True)}


def rejected_by_filter(decisions: dict[str, FilterRecord], file_name: str, path: Path) -> bool:
    """Whether the filter rejected this image as it is now: a decision about other bytes (the image was generated
    again since) is no decision."""
    decision = decisions.get(file_name)
    return decision is not None and not decision.kept and decision.sha256 == file_sha256(path)
