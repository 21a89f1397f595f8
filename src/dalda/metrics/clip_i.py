"""CLIP-I: mean cosine of CLIP image embeddings (lower = more diverse); 1 for identical images. Two entries:

- ``clip_i``: pairs of synthetic images made from the same real image (or of the same class): how different the
  images one image prompt gave are from each other;
- ``clip_i_real``: each synthetic image against the real image it was made from, DreamBooth's CLIP-I (the
  measure the paper cites): how far generation moved away from its source.

Embeddings use CLIP's own preprocessing (``models.clip_model``, the one CLIP every stage shares) and are
computed once per image, then shared by every pairing rule. Both entries are on by default
(``evaluate.metrics.clip_i.enabled``, ``evaluate.metrics.clip_i_real.enabled``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import Field

from dalda.config import DaldaConfig, EvaluateConfig
from dalda.metrics.spec import GroupScorer, ImageLoader, MetricSettings


class ClipISettings(MetricSettings):
    enabled: bool = Field(
        True,
        description="Compute CLIP-I among synthetic images (mean CLIP image-embedding cosine; lower = more diverse).",
    )


class ClipIRealSettings(MetricSettings):
    enabled: bool = Field(
        True,
        description="Compute CLIP-I of each synthetic image against its real source (DreamBooth's; lower = more "
        "diverse).",
    )


class ClipI:
    name = "clip_i"
    title = "CLIP-I"
    kind = "diversity"
    higher_is_more_diverse = False
    settings_model: type[MetricSettings] = ClipISettings
    result_settings: tuple[str, ...] = ()
    pairs_with_source = False

    def recorded_settings(self, config: DaldaConfig, settings: ClipISettings) -> dict[str, Any]:
        return {"clip_model": config.models.clip_model}

    def load(self, config: DaldaConfig, settings: ClipISettings) -> Any:
        from dalda.models.clip import load_clip

        return load_clip(config.models)

    def group_scorer(
        self, model: Any, paths: Sequence[Path], load_image: ImageLoader, evaluate: EvaluateConfig,
        settings: ClipISettings,
    ) -> GroupScorer:  # fmt: skip
        from dalda.metrics.cosine import embed_images, mean_cosine_by_group

        embeddings = embed_images(
            model.encode_images, model.embed_dim, paths, load_image, model.batch_size, "CLIP-I embeddings"
        )
        return lambda pairs: mean_cosine_by_group(embeddings, pairs)


class ClipIReal(ClipI):
    """CLIP-I of each synthetic image against its real source (DreamBooth's CLIP-I)."""

    name = "clip_i_real"
    title = "CLIP-I vs real"
    settings_model = ClipIRealSettings
    pairs_with_source = True
