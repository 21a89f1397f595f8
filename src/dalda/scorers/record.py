"""A real image's alignment score as the scorers read it: the ``scores.jsonl`` record plus its value rule."""

from __future__ import annotations

from dataclasses import dataclass

from dalda.artefacts import ScoreRecord
from dalda.scorers.base import SCORERS


@dataclass(frozen=True)
class ImageScore(ScoreRecord):
    """A :class:`~dalda.artefacts.ScoreRecord` that knows how each registered scorer turns it into a value."""

    def value(self, variant: str) -> float:
        """The value AGS uses under ``score.variant=variant``, always in [0, 1]."""
        return SCORERS.get(variant).value(self.measures)
