"""Alignment scorers (an extension point): what AGS reads, looked up by ``score.variant``.

Adding a scorer is one module implementing :class:`AlignmentScorer` plus one ``SCORERS.register`` call
(``docs/extending.md``). The CLIP entries are also registered as ``clip-softmax`` / ``clip-cosine``; ``siglip``
and ``vqa`` read other models (``dalda.models.siglip``, ``dalda.models.blip_vqa``), each with its own default alpha.
"""

from dalda.scorers.base import SCORERS, TOP_LABEL, AlignmentScorer, Measurer, Measures
from dalda.scorers.clip import COSINE, SOFTMAX, clip_model_identity
from dalda.scorers.record import ImageScore
from dalda.scorers.siglip import SIGLIP
from dalda.scorers.vqa import VQA

SCORERS.register("softmax", SOFTMAX)
SCORERS.register("cosine", COSINE)
SCORERS.register("clip-softmax", SOFTMAX)
SCORERS.register("clip-cosine", COSINE)
SCORERS.register("siglip", SIGLIP)
SCORERS.register("vqa", VQA)

__all__ = [
    "SCORERS",
    "TOP_LABEL",
    "AlignmentScorer",
    "ImageScore",
    "Measurer",
    "Measures",
    "clip_model_identity",
]
