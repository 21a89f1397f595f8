"""CLIPScore of a real image against "a photo of a {class}" (paper Sec. 3.1), the two scorers AGS can read.

One CLIP forward pass per batch gives every number; the two entries differ only in which one they read,
because the paper and the authors' code differ:

- ``softmax`` (default, what produced the paper's numbers): the probability CLIP gives the image's true class
  when its logits against *every* class prompt are softmaxed. In [0, 1]; the paper's dataset means are
  0.84 / 0.78 / 0.55 (see ``dalda.datasets``).
- ``cosine``: the raw cosine between the image and its class prompt, as the paper's text describes, clamped to
  [0, 1]. The Hessel et al. CLIPScore 2.5 * max(cos, 0) is stored beside it for reference.

Both store all three numbers, so switching the variant needs no recomputation. The forward pass itself is in
``clip_forward``, loaded only when a scorer is loaded. Neither has settings of its own: they read the one CLIP
every stage shares (``models.clip_model``: the CLIP probe and CLIP-I use it too).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dalda.config import ModelsConfig
from dalda.scorers.base import Measurer, ScorerSection
from dalda.settings import NoSettings


def clip_model_identity(models: ModelsConfig) -> str:
    """Names the CLIP weights a score came from; random tiny weights must never pass for the real model."""
    if models.profile == "real":
        return models.clip_model
    return f"{models.profile}-random:{models.clip_model}"


@dataclass(frozen=True)
class ClipScorer:
    """A CLIP scorer reading one of the numbers of the shared forward pass (``measure``), clamped to [0, 1]."""

    name: str
    title: str
    measure: str
    default_alpha: float = 0.3
    """The paper's Tab. 4 alpha, chosen by the authors for the softmax score; the cosine scorer keeps it so that
    switching ``score.variant`` alone changes nothing else (set ``guidance.alpha`` to tune it)."""
    settings_model: type[NoSettings] = NoSettings

    def identity(self, models: ModelsConfig, settings: NoSettings) -> str:
        return clip_model_identity(models)

    def load(
        self, models: ModelsConfig, settings: NoSettings, classes: list[str], template: str, section: ScorerSection
    ) -> Measurer:
        from dalda.scorers.clip_forward import load_clip_measurer

        return load_clip_measurer(models, classes, template)

    def value(self, measures: Mapping[str, float]) -> float:
        return min(max(measures[self.measure], 0.0), 1.0)


SOFTMAX = ClipScorer(name="softmax", title="CLIPScore (softmax)", measure="softmax")
COSINE = ClipScorer(name="cosine", title="CLIPScore (cosine)", measure="cosine")
