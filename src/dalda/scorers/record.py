"""One line of ``scores.jsonl``: a real image, the scorer model's measurements of it, and how to read its value.

The line keeps the fields it always had: ``path``, ``class_name``, ``label``, ``sha256``, the measurements (for
CLIP: ``softmax``, ``cosine``, ``hessel``), ``clip_model`` (the scorer model's identity) and ``template``; the
score stage adds :data:`RUN_FIELDS` for readers of the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dalda.scorers.base import SCORERS, Measures

RUN_FIELDS = ("classes_digest", "score", "group")
"""Fields the score stage adds to each line: the class-list digest, and the value and High/Low group under the
run's ``score.variant`` and ``guidance.alpha`` (for reading the file; recomputed on every write)."""


@dataclass(frozen=True)
class ImageScore:
    path: str
    class_name: str
    label: int
    sha256: str
    measures: Measures
    clip_model: str
    """Identity of the model that measured the image (the name dates from when only CLIP scored)."""
    template: str

    def value(self, variant: str) -> float:
        """The value AGS uses under ``score.variant=variant``, always in [0, 1]."""
        return SCORERS.get(variant).value(self.measures)

    def to_row(self) -> dict[str, Any]:
        """The JSON line, measurements between ``sha256`` and ``clip_model`` as they always were."""
        return {
            "path": self.path,
            "class_name": self.class_name,
            "label": self.label,
            "sha256": self.sha256,
            **self.measures,
            "clip_model": self.clip_model,
            "template": self.template,
        }

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ImageScore:
        """Read a line written by :meth:`to_row` (with or without :data:`RUN_FIELDS`)."""
        named = {"path", "class_name", "label", "sha256", "clip_model", "template", *RUN_FIELDS}
        return cls(
            path=row["path"],
            class_name=row["class_name"],
            label=row["label"],
            sha256=row["sha256"],
            measures={key: float(value) for key, value in row.items() if key not in named},
            clip_model=row["clip_model"],
            template=row["template"],
        )
