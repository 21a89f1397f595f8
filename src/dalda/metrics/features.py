"""The feature encoders FID and KID compare sets on, by name (``evaluate.fidelity.features``):

- ``inception`` (default): Inception-v3's 2048-d average-pool features, the layer FID and KID are defined on.
  The real profile uses torchvision's ImageNet weights, not the TensorFlow-ported ones of the original FID code
  (``pt_inception-2015-12-05``), so the numbers compare dalda runs with each other, not with published FIDs;
- ``dino``: a DINO(v2) embedding (unit norm; a self-supervised feature space), with settings of its own beside
  the choice (``evaluate.fidelity: {features: dino, model: facebook/dinov2-small, pooling: cls}``);
- ``clip``: the CLIP image embedding of ``models.clip_model`` (unit norm).

Each encoder imports its model only in ``load`` / ``identity``, so listing them costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Protocol

import numpy as np
from PIL import Image

from dalda.config import DaldaConfig
from dalda.metrics.dino import DinoEmbedding
from dalda.settings import EntrySettings, NoSettings

FeatureFn = Callable[[list[Image.Image]], np.ndarray]
"""RGB images -> (N, D) float64 features."""


class FidelityEncoder(Protocol):
    """The features FID / KID compare; ``evaluate.fidelity.features`` names one, its settings sit beside it."""

    name: str
    settings_model: ClassVar[type[EntrySettings]]

    def identity(self, config: DaldaConfig, settings: Any) -> str:
        """Names the model and layer (written to ``diversity.json``); random weights never pass for real ones."""
        ...

    def load(self, config: DaldaConfig, settings: Any) -> FeatureFn: ...


class InceptionFeatures:
    name = "inception"
    settings_model = NoSettings

    def identity(self, config: DaldaConfig, settings: NoSettings) -> str:
        from dalda.models.inception import inception_identity

        return inception_identity(config.models)

    def load(self, config: DaldaConfig, settings: NoSettings) -> FeatureFn:
        from dalda.models.inception import load_inception

        return load_inception(config.models).encode_images


class DinoFeatures:
    name = "dino"
    settings_model = DinoEmbedding

    def identity(self, config: DaldaConfig, settings: DinoEmbedding) -> str:
        from dalda.models.dino import dino_identity

        return f"dino:{dino_identity(config.models, settings.model)}:{settings.pooling}"

    def load(self, config: DaldaConfig, settings: DinoEmbedding) -> FeatureFn:
        from dalda.models.dino import load_dino

        dino = load_dino(config.models, settings.model, "evaluate.fidelity.model", settings.pooling)
        return lambda images: dino.encode_images(images).double().numpy()


class ClipFeatures:
    name = "clip"
    settings_model = NoSettings

    def identity(self, config: DaldaConfig, settings: NoSettings) -> str:
        models = config.models
        name = models.clip_model if models.profile == "real" else f"{models.profile}-random:{models.clip_model}"
        return f"clip:{name}"

    def load(self, config: DaldaConfig, settings: NoSettings) -> FeatureFn:
        from dalda.models.clip import load_clip

        clip = load_clip(config.models)
        return lambda images: clip.encode_images(images).double().numpy()
