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
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
from PIL import Image

from dalda.config import ModelsConfig
from dalda.models.siglip import SiglipBundle, load_siglip
from dalda.scorers.base import TOP_LABEL, Measurer, Measures


def siglip_model_identity(models: ModelsConfig) -> str:
    """Names the SigLIP weights; random weights never pass for the real model."""
    if models.profile == "real":
        return f"siglip:{models.siglip_model}"
    return f"{models.profile}-random:siglip:{models.siglip_model}"


@dataclass(frozen=True)
class SiglipMeasurer:
    """SigLIP bound to the class prompts: softmax over classes, sigmoid and cosine of each image's true class."""

    siglip: SiglipBundle
    text: torch.Tensor
    """Unit text embeddings of the class prompts, one row per class."""

    def __call__(self, images: list[Image.Image], labels: list[int]) -> list[Measures]:
        cosines = self.siglip.encode_images(images) @ self.text.T
        logits = self.siglip.logits(cosines)
        softmax, sigmoid = logits.softmax(dim=-1), logits.sigmoid()
        return [
            {
                "siglip_softmax": float(softmax[row, label]),
                "siglip_sigmoid": float(sigmoid[row, label]),
                "siglip_cosine": float(cosines[row, label]),
                TOP_LABEL: float(logits[row].argmax()),
            }
            for row, label in enumerate(labels)
        ]


@dataclass(frozen=True)
class SiglipScorer:
    name: str = "siglip"
    title: str = "SigLIP (softmax over classes)"
    default_alpha: float = 0.3
    """See the module docstring: same meaning as the CLIP softmax score, so the paper's alpha."""

    def identity(self, models: ModelsConfig) -> str:
        return siglip_model_identity(models)

    def load(self, models: ModelsConfig, classes: list[str], template: str) -> Measurer:
        siglip = load_siglip(models, models.siglip_model, "models.siglip_model")
        return SiglipMeasurer(siglip, siglip.encode_texts([template.format(name) for name in classes]))

    def value(self, measures: Mapping[str, float]) -> float:
        return min(max(measures["siglip_softmax"], 0.0), 1.0)


SIGLIP = SiglipScorer()
