"""SigLIP as an alignment scorer (``score.variant=siglip``): the image against every class prompt.

SigLIP is trained with a sigmoid loss, so each image-prompt pair has its own probability
``sigmoid(exp(logit_scale) * cos + logit_bias)``. The scorer's value is nevertheless the **softmax** of those
logits over the dataset's class prompts, read at the true class, because AGS asks a relative question (is this
image recognisably its class *among these classes*?), the one the authors' CLIP softmax answers, and because the
pairwise sigmoid of a short "a photo of a {class}" prompt is small and bunched near zero for most images (the
learned bias is strongly negative), which leaves a fixed threshold little to separate. The sigmoid of the true
class and the raw cosine are stored beside it in ``scores.jsonl`` for analysis.

Default alpha 0.3: the value has the same meaning as the CLIP softmax score (probability of the true class
among the dataset's classes), so the paper's threshold (Tab. 4) carries over unchanged; it was not re-tuned.

The checkpoint is the entry's ``model`` setting (``score.model`` / ``filter.model``, beside the choice). Another
SigLIP checkpoint with another default is one more entry: a :class:`SiglipScorer` with its own name and a
settings model whose ``model`` default is that checkpoint (``docs/extending.md``). The forward pass is in
``siglip_forward``, imported only when a scorer is loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import Field

from dalda.config import ModelsConfig
from dalda.scorers.base import Measurer, ScorerSection
from dalda.settings import EntrySettings


class SiglipSettings(EntrySettings):
    """The SigLIP checkpoint the image is scored with."""

    model: str = Field(
        "google/siglip-base-patch16-224",
        description="SigLIP checkpoint: Hub id or local folder with the same layout (its tokenizer needs "
        "sentencepiece).",
    )


def siglip_identity(models: ModelsConfig, checkpoint: str) -> str:
    """Names the SigLIP weights (the cache key); random weights never pass for the real model."""
    if models.profile == "real":
        return f"siglip:{checkpoint}"
    return f"{models.profile}-random:siglip:{checkpoint}"


@dataclass(frozen=True)
class SiglipScorer:
    name: str = "siglip"
    title: str = "SigLIP (softmax over classes)"
    default_alpha: float = 0.3
    """See the module docstring: same meaning as the CLIP softmax score, so the paper's alpha."""
    settings_model: type[SiglipSettings] = SiglipSettings

    def identity(self, models: ModelsConfig, settings: SiglipSettings) -> str:
        return siglip_identity(models, settings.model)

    def load(
        self, models: ModelsConfig, settings: SiglipSettings, classes: list[str], template: str, section: ScorerSection
    ) -> Measurer:
        from dalda.scorers.siglip_forward import load_siglip_measurer

        return load_siglip_measurer(models, settings.model, f"{section}.model", classes, template)

    def value(self, measures: Mapping[str, float]) -> float:
        return min(max(measures["siglip_softmax"], 0.0), 1.0)


SIGLIP = SiglipScorer()
