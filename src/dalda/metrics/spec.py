"""What a metric of the synthetic set declares, so the evaluate stage, the config and the report can use it.

Every metric is one entry of ``dalda.metrics.METRICS`` and says which ``kind`` it is:

- ``diversity``: a score over pairs of images (CLIP-I, LPIPS, DINO), written per pairing rule
  (``dalda/evaluation/diversity.py``);
- ``fidelity``: the synthetic set against the real evaluation images, on features both sets are embedded with
  once (FID, KID; ``dalda/evaluation/fidelity.py``).

Each declares its settings as a subclass of :class:`MetricSettings`, whose ``enabled`` says whether a run
computes it (its default is the metric's own); the config holds them under ``evaluate.metrics.<name>``.
This module imports no model library: entries load their models inside ``load``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol

import numpy as np
from PIL import Image
from pydantic import Field

from dalda.config import DaldaConfig, EvaluateConfig
from dalda.settings import EntrySettings

MetricKind = Literal["diversity", "fidelity"]
KINDS: tuple[MetricKind, ...] = ("diversity", "fidelity")
"""In this order the evaluate stage writes them and the report makes their columns."""

ImageLoader = Callable[[Path], Image.Image]
"""Decodes one synthetic image to RGB (the evaluate stage passes the data package's reader)."""
GroupScorer = Callable[[Mapping[str, np.ndarray]], dict[str, float]]
"""Group name -> (P, 2) pairs of image indices, to group name -> the metric's mean over those pairs."""


class MetricSettings(EntrySettings):
    """The settings every metric has; a metric subclasses it to add its knobs and to give ``enabled`` its own
    default (on for the paper's CLIP-I and LPIPS, off for the additions)."""

    enabled: bool = Field(False, description="Compute this metric in the evaluate stage.")


class Metric(Protocol):
    """What every metric declares, whatever its kind."""

    name: str
    """Its key in ``diversity.json``, ``results/<classifier>.json`` and ``evaluate.metrics`` ("clip_i")."""
    title: str
    """Its report column, before the direction arrow ("CLIP-I")."""
    kind: MetricKind
    higher_is_more_diverse: bool
    """The direction the report's arrow points (fidelity metrics: False, lower is closer to the real images)."""
    settings_model: ClassVar[type[MetricSettings]]


class DiversityMetric(Metric, Protocol):
    """One pairwise diversity score (``kind = "diversity"``), written to ``diversity.json`` under ``name``."""

    result_settings: tuple[str, ...]
    """Keys of :meth:`recorded_settings` that the results files repeat next to the score."""
    pairs_with_source: bool
    """False: pairs of synthetic images of one group; True: each synthetic image with the real image it was made
    from (its ``paths`` then also hold the real images). An entry without the attribute counts as False."""

    def recorded_settings(self, config: DaldaConfig, settings: Any) -> dict[str, Any]:
        """What identifies its model and preprocessing, written to ``diversity.json`` (None there when disabled);
        ``settings`` is its resolved :attr:`settings_model`."""
        ...

    def load(self, config: DaldaConfig, settings: Any) -> Any:
        """Its model, built through the model kit (imported here, not at module level)."""
        ...

    def group_scorer(
        self, model: Any, paths: Sequence[Path], load_image: ImageLoader, evaluate: EvaluateConfig, settings: Any
    ) -> GroupScorer:
        """Score pairs among ``paths``; per-image work (embeddings) is done here once for every pairing rule."""
        ...


class FidelityMetric(Metric, Protocol):
    """One number (or a few) comparing the synthetic set with the real evaluation images (``kind = "fidelity"``)."""

    def compute(self, synthetic: np.ndarray, real: np.ndarray, settings: Any, seed: int) -> dict[str, Any]:
        """``{name: value, ...extra details}`` from (N, D) synthetic and (M, D) real features."""
        ...


def column_title(metric: Metric) -> str:
    """The report's column: the title and the direction in which the set is more diverse ("CLIP-I (↓)")."""
    return f"{metric.title} ({'↑' if metric.higher_is_more_diverse else '↓'})"


def on_by_default(metric: Metric) -> bool:
    """Whether a config that says nothing about ``metric`` computes it (its settings' ``enabled`` default)."""
    return bool(metric.settings_model().enabled)
