"""The CLIP forward pass the CLIP scorers share: one batch of images against every class prompt."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from PIL import Image

from dalda.config import ModelsConfig
from dalda.models.clip import ClipBundle, load_clip
from dalda.scorers.base import TOP_LABEL, Measures


@dataclass(frozen=True)
class ClipMeasurer:
    """CLIP bound to the class prompts: softmax, cosine and Hessel CLIPScore of each image's true class."""

    clip: ClipBundle
    text: torch.Tensor
    """Unit text embeddings of the class prompts, one row per class."""

    @torch.no_grad()
    def __call__(self, images: list[Image.Image], labels: list[int]) -> list[Measures]:
        cosines = self.clip.encode_images(images) @ self.text.T
        probabilities = (self.clip.logit_scale * cosines).softmax(dim=-1)
        measures = []
        for row, label in enumerate(labels):
            cosine = float(cosines[row, label])
            measures.append(
                {
                    "softmax": float(probabilities[row, label]),
                    "cosine": cosine,
                    "hessel": 2.5 * max(cosine, 0.0),
                    TOP_LABEL: float(cosines[row].argmax()),
                }
            )
        return measures


@torch.no_grad()
def load_clip_measurer(models: ModelsConfig, classes: list[str], template: str) -> ClipMeasurer:
    """Load CLIP and embed the class prompts (``template`` filled with each class name) once."""
    clip = load_clip(models)
    return ClipMeasurer(clip, clip.encode_texts([template.format(name) for name in classes]))
