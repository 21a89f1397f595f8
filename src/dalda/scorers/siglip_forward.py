"""The SigLIP forward pass of the SigLIP scorers (``siglip.py``): a batch of images against every class prompt.

Kept apart from the scorer's entry so that looking the entry up (every command checks its config against the
registry) does not import torch or transformers.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from PIL import Image

from dalda.config import ModelsConfig
from dalda.models.siglip import SiglipBundle, load_siglip
from dalda.scorers.base import TOP_LABEL, Measures


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


def load_siglip_measurer(
    models: ModelsConfig, checkpoint: str, field: str, classes: list[str], template: str
) -> SiglipMeasurer:
    """Load SigLIP from ``checkpoint`` (set by the config field ``field``) and embed the class prompts once."""
    siglip = load_siglip(models, checkpoint, field)
    return SiglipMeasurer(siglip, siglip.encode_texts([template.format(name) for name in classes]))
