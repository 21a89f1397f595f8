"""What a diversity metric of the synthetic set declares, so the evaluate stage and the report can use it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from PIL import Image

from dalda.config import DaldaConfig, EvaluateConfig

ImageLoader = Callable[[Path], Image.Image]
"""Decodes one synthetic image to RGB (the evaluate stage passes the data package's reader)."""
GroupScorer = Callable[[Mapping[str, np.ndarray]], dict[str, float]]
"""Group name -> (P, 2) pairs of image indices, to group name -> the metric's mean over those pairs."""


class DiversityMetric(Protocol):
    """One pairwise diversity score, written to ``diversity.json`` under ``name`` and shown as a report column."""

    name: str
    """Its key in ``diversity.json`` and ``results/<classifier>.json`` ("clip_i")."""
    title: str
    """Its report column, before the direction arrow ("CLIP-I")."""
    higher_is_more_diverse: bool
    result_settings: tuple[str, ...]
    """Keys of :meth:`settings` that the results files repeat next to the score."""
    pairs_with_source: bool
    """False: pairs of synthetic images of one group; True: each synthetic image with the real image it was made
    from (its ``paths`` then also hold the real images). An entry without the attribute counts as False."""

    def enabled(self, evaluate: EvaluateConfig) -> bool:
        """Whether the config asks for it (``evaluate.<name>``)."""
        ...

    def settings(self, config: DaldaConfig) -> dict[str, Any]:
        """What identifies its model and preprocessing, written to ``diversity.json`` (None when disabled)."""
        ...

    def load(self, config: DaldaConfig) -> Any:
        """Its model, built through the model kit."""
        ...

    def group_scorer(
        self, model: Any, paths: Sequence[Path], load_image: ImageLoader, evaluate: EvaluateConfig
    ) -> GroupScorer:
        """Score pairs among ``paths``; per-image work (embeddings) is done here once for every pairing rule."""
        ...


def column_title(metric: DiversityMetric) -> str:
    """The report's column: the title and the direction in which the set is more diverse ("CLIP-I (↓)")."""
    return f"{metric.title} ({'↑' if metric.higher_is_more_diverse else '↓'})"
