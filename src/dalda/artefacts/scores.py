"""``scores.jsonl``: one line per real training image with its alignment measurements and its High/Low group.

A line keeps the fields it always had: ``path``, ``class_name``, ``label``, ``sha256``, the scorer model's
measurements (for CLIP: ``softmax``, ``cosine``, ``hessel``), ``clip_model`` (the scorer model's identity; the
name dates from when only CLIP scored), ``template``, then the run fields the score stage adds for readers:
``classes_digest``, ``score`` (the value under the run's ``score.variant``) and ``group``. Which measurement is
the score is the scorer's business (``dalda.scorers``); this record only keeps them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dalda.artefacts.errors import MissingArtefactError
from dalda.io import read_jsonl, write_jsonl_atomic
from dalda.rundir import RunDir

RUN_FIELDS = ("classes_digest", "score", "group")
"""Fields the score stage adds to each line (absent in files written before they existed)."""
_NAMED = ("path", "class_name", "label", "sha256", "clip_model", "template", *RUN_FIELDS)


def _file(source: RunDir | Path) -> Path:
    return source.scores if isinstance(source, RunDir) else Path(source)


@dataclass(frozen=True)
class ScoreRecord:
    path: str
    class_name: str
    label: int
    sha256: str
    measures: dict[str, float]
    """The scorer model's numbers for this image (every key of the line not named above)."""
    clip_model: str
    """Identity of the model that measured the image."""
    template: str
    classes_digest: str | None = None
    """Digest of the class list the measurements were taken against."""
    score: float | None = None
    """The value under the run's ``score.variant``."""
    group: str | None = None
    """"high" or "low" under the run's ``guidance.alpha``."""

    @classmethod
    def from_json(cls, row: Any) -> ScoreRecord:
        if not isinstance(row, dict) or any(key not in row for key in _NAMED[:6]):
            raise ValueError(f"a scores.jsonl line lacks some of the fields {list(_NAMED[:6])}: {row!r}")
        return cls(
            path=row["path"],
            class_name=row["class_name"],
            label=row["label"],
            sha256=row["sha256"],
            measures={key: float(value) for key, value in row.items() if key not in _NAMED},
            clip_model=row["clip_model"],
            template=row["template"],
            classes_digest=row.get("classes_digest"),
            score=row.get("score"),
            group=row.get("group"),
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON line: measurements between ``sha256`` and ``clip_model``, run fields last when set."""
        payload: dict[str, Any] = {
            "path": self.path,
            "class_name": self.class_name,
            "label": self.label,
            "sha256": self.sha256,
            **self.measures,
            "clip_model": self.clip_model,
            "template": self.template,
        }
        for key in RUN_FIELDS:
            if getattr(self, key) is not None:
                payload[key] = getattr(self, key)
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
