"""``scores.jsonl``: one line per real training image with its CLIPScores and its High/Low group."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dalda.artefacts._fields import from_mapping, to_mapping
from dalda.artefacts.errors import MissingArtefactError
from dalda.io import read_jsonl, write_jsonl_atomic
from dalda.rundir import RunDir


def _file(source: RunDir | Path) -> Path:
    return source.scores if isinstance(source, RunDir) else Path(source)


@dataclass(frozen=True)
class ScoreRecord:
    """One line of ``scores.jsonl``: the image's scores (``dalda.scoring``) plus this run's value and group."""

    path: str
    class_name: str
    label: int
    sha256: str
    softmax: float
    cosine: float
    hessel: float
    clip_model: str
    template: str
    classes_digest: str | None = None
    """Digest of the class list the softmax was taken over (absent in files written before it existed)."""
    score: float | None = None
    """The value under the run's ``score.variant`` (absent in older files)."""
    group: str | None = None
    """"high" or "low" under the run's ``guidance.alpha`` (absent in older files)."""
    extra: dict[str, Any] = field(default_factory=dict)

    def value(self, variant: str) -> float:
        """The score AGS uses under ``variant``, in [0, 1] (the rule of ``dalda.scoring.clipscore.ImageScore``)."""
        if variant == "softmax":
            return self.softmax
        return min(max(self.cosine, 0.0), 1.0)

    @classmethod
    def from_json(cls, payload: Any) -> ScoreRecord:
        return from_mapping(cls, payload, "a scores.jsonl line")

    def to_json(self) -> dict[str, Any]:
        payload = to_mapping(self)
        for key in ("classes_digest", "score", "group"):
            if payload[key] is None:
                del payload[key]
        return payload

    @classmethod
    def read_all(cls, source: RunDir | Path) -> list[ScoreRecord]:
        path = _file(source)
        if not path.is_file():
            raise MissingArtefactError("CLIPScores", path, "score")
        return [cls.from_json(row) for row in read_jsonl(path)]

    @staticmethod
    def write_all(target: RunDir | Path, records: list[ScoreRecord]) -> None:
        write_jsonl_atomic(_file(target), (record.to_json() for record in records))
