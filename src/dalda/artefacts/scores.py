"""``scores.jsonl``: one line per real training image with its alignment measurements and its High/Low group.

A line keeps the fields it always had: ``path``, ``class_name``, ``label``, ``sha256``, the scorer model's
measurements (for CLIP: ``softmax``, ``cosine``, ``hessel``), ``clip_model`` (the scorer model's identity; the
name dates from when only CLIP scored), ``template``, then the run fields the score stage adds for readers:
``classes_digest``, ``score`` (the value under the run's ``score.variant``) and ``group``. Which measurement is
the score is the scorer's business (``dalda.scorers``); this record only keeps them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dalda.artefacts.record import JsonLinesRecord
from dalda.rundir import RunDir

RUN_FIELDS = ("classes_digest", "score", "group")
"""Fields the score stage adds to each line (absent in files written before they existed)."""
_NAMED = ("path", "class_name", "label", "sha256", "clip_model", "template", *RUN_FIELDS)


@dataclass(frozen=True)
class ScoreRecord(JsonLinesRecord):
    WHAT = "CLIPScores"
    MADE_BY = "score"

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
    extra: dict[str, Any] = field(default_factory=dict)
    """Keys a newer version wrote that are no measurement (not numbers), kept and written back last."""

    @classmethod
    def file(cls, run: RunDir) -> Path:
        return run.scores

    @classmethod
    def from_json(cls, row: Any, where: object = "a scores.jsonl line") -> ScoreRecord:
        if not isinstance(row, dict) or any(key not in row for key in _NAMED[:6]):
            raise ValueError(f"{where} lacks some of the fields {list(_NAMED[:6])}: {row!r}")
        return cls(
            path=row["path"],
            class_name=row["class_name"],
            label=row["label"],
            sha256=row["sha256"],
            measures={key: float(value) for key, value in row.items() if key not in _NAMED and _is_number(value)},
            clip_model=row["clip_model"],
            template=row["template"],
            classes_digest=row.get("classes_digest"),
            score=row.get("score"),
            group=row.get("group"),
            extra={key: value for key, value in row.items() if key not in _NAMED and not _is_number(value)},
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
        return {**payload, **self.extra}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
