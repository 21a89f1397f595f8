"""Alignment scorers (an extension point): what AGS reads, looked up by ``score.variant`` (and ``filter.scorer``).

Adding a scorer is one module implementing :class:`AlignmentScorer` plus one ``SCORERS.register`` call
(``docs/extending.md``); a scorer with its own checkpoint declares it as a setting of its own. The CLIP entries
are also registered as ``clip-softmax`` / ``clip-cosine`` and read the shared ``models.clip_model``; ``siglip``
and ``vqa`` read other models (``dalda.models.siglip``, ``dalda.models.blip_vqa``) named by their ``model``
setting, each with its own default alpha.
"""

from dalda.scorers.base import (
    SCORERS,
    TOP_LABEL,
    AlignmentScorer,
    ChosenScorer,
    Measurer,
    Measures,
    ScorerSection,
    chosen_scorer,
)
from dalda.scorers.clip import COSINE, SOFTMAX, clip_model_identity
from dalda.scorers.record import ImageScore
from dalda.scorers.siglip import SIGLIP, SiglipScorer, SiglipSettings
from dalda.scorers.vqa import VQA, VqaSettings

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
    "ChosenScorer",
    "ImageScore",
    "Measurer",
    "Measures",
    "ScorerSection",
    "SiglipScorer",
    "SiglipSettings",
    "VqaSettings",
    "chosen_scorer",
    "clip_model_identity",
]
