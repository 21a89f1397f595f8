"""What an alignment scorer is: the number AGS reads to decide how far a synthetic image may stray from its source.

A scorer measures each real training image against the class list with some model (one forward pass, several
numbers per image, e.g. CLIP's softmax probability and cosine) and derives from those numbers one value in
[0, 1]: how well the image shows its class. The measurements are what ``scores.jsonl`` stores, so scorers that
share a model (the CLIP ones) share the cache and switching between them needs no recomputation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from PIL import Image

from dalda.config import ModelsConfig
from dalda.registry import Registry

Measures = dict[str, float]
"""The numbers one forward pass gives for one image, by name (stored as fields of its ``scores.jsonl`` line)."""

TOP_LABEL = "top_label"
"""Optional measure: the class index the scorer's model ranks first for the image (scorers that compare the
image with every class prompt give it; the filter stage rejects images whose top class is not their own)."""

Measurer = Callable[[list[Image.Image], list[int]], list[Measures]]
"""A loaded scorer bound to the class list: (RGB images, their labels) -> one :data:`Measures` per image."""


class AlignmentScorer(Protocol):
    """One entry of :data:`SCORERS`; ``score.variant`` names it."""

    name: str
    title: str
    """Shown on the score histogram ("CLIPScore (softmax)")."""
    default_alpha: float
    """The Low / High threshold used when the config does not set ``guidance.alpha``."""

    def identity(self, models: ModelsConfig) -> str:
        """Names the model the measurements come from (part of the cache key; stored as ``clip_model``).

        Scorers that derive their value from the same measurements return the same identity.
        """
        ...

    def load(self, models: ModelsConfig, classes: list[str], template: str) -> Measurer:
        """Load the model and bind it to the class prompts (``template`` filled with each class name)."""
        ...

    def value(self, measures: Mapping[str, float]) -> float:
        """The image's alignment value in [0, 1], from its stored measurements."""
        ...


SCORERS: Registry[AlignmentScorer] = Registry("alignment scorer", setting="score.variant", group="dalda.scorers")
