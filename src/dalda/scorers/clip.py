"""CLIPScore of a real image against "a photo of a {class}" (paper Sec. 3.1), the two scorers AGS can read.

One CLIP forward pass per batch gives every number; the two entries differ only in which one they read,
because the paper and the authors' code differ:

- ``softmax`` (default, what produced the paper's numbers): the probability CLIP gives the image's true class
  when its logits against *every* class prompt are softmaxed. In [0, 1]; the paper's dataset means are
  0.84 / 0.78 / 0.55 (see ``dalda.datasets``).
- ``cosine``: the raw cosine between the image and its class prompt, as the paper's text describes, clamped to
  [0, 1]. The Hessel et al. CLIPScore 2.5 * max(cos, 0) is stored beside it for reference.

Both store all three numbers, so switching the variant needs no recomputation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
from PIL import Image

from dalda.config import ModelsConfig
from dalda.models.kit import ClipBundle, load_clip
from dalda.scorers.base import Measurer, Measures


def clip_model_identity(models: ModelsConfig) -> str:
    """Names the CLIP weights a score came from; random tiny weights must never pass for the real model."""
    if models.profile == "real":
        return models.clip_model
    return f"{models.profile}-random:{models.clip_model}"


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
                {"softmax": float(probabilities[row, label]), "cosine": cosine, "hessel": 2.5 * max(cosine, 0.0)}
            )
        return measures


@dataclass(frozen=True)
class ClipScorer:
    """A CLIP scorer reading one of :class:`ClipMeasurer`'s numbers, clamped to [0, 1]."""

    name: str
    title: str
    measure: str
    default_alpha: float = 0.3
    """The paper's Tab. 4 alpha, chosen by the authors for the softmax score; the cosine scorer keeps it so that
    switching ``score.variant`` alone changes nothing else (set ``guidance.alpha`` to tune it)."""

    def identity(self, models: ModelsConfig) -> str:
        return clip_model_identity(models)

    @torch.no_grad()
    def load(self, models: ModelsConfig, classes: list[str], template: str) -> Measurer:
        clip = load_clip(models)
        return ClipMeasurer(clip, clip.encode_texts([template.format(name) for name in classes]))

    def value(self, measures: Mapping[str, float]) -> float:
        return min(max(measures[self.measure], 0.0), 1.0)


SOFTMAX = ClipScorer(name="softmax", title="CLIPScore (softmax)", measure="softmax")
COSINE = ClipScorer(name="cosine", title="CLIPScore (cosine)", measure="cosine")
