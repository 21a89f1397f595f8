"""Alignment scorers (an extension point): what AGS reads, looked up by ``score.variant``.

Adding a scorer is one module implementing :class:`AlignmentScorer` plus one ``SCORERS.register`` call
(``docs/extending.md``). The CLIP entries are also registered as ``clip-softmax`` / ``clip-cosine``.
"""

from dalda.scorers.base import SCORERS, AlignmentScorer, Measurer, Measures
from dalda.scorers.clip import COSINE, SOFTMAX, clip_model_identity
from dalda.scorers.groups import HIGH, LOW, clipscore_group
from dalda.scorers.record import ImageScore

SCORERS.register("softmax", SOFTMAX)
SCORERS.register("cosine", COSINE)
SCORERS.register("clip-softmax", SOFTMAX)
SCORERS.register("clip-cosine", COSINE)

__all__ = [
    "HIGH",
    "LOW",
    "SCORERS",
    "AlignmentScorer",
    "ImageScore",
    "Measurer",
    "Measures",
    "clip_model_identity",
    "clipscore_group",
]
