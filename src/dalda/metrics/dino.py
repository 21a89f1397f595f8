"""DINO similarity: mean cosine of DINO(v2) image embeddings (lower = more diverse); 1 for identical images.

DreamBooth reports it next to CLIP-I because a self-supervised ViT, unlike CLIP, is not trained to ignore what
a caption would not mention, so it separates images of one class that differ in pose, layout or texture. Two
entries with CLIP-I's pairing rules (``evaluation/diversity.py``):

- ``dino``: pairs of synthetic images made from the same real image;
- ``dino_real``: each synthetic image against the real image it was made from (DreamBooth's DINO score).

Each has its own settings (``evaluate.metrics.dino``, ``evaluate.metrics.dino_real``): ``model``, the checkpoint
(``facebook/dinov2-small`` by default), and ``pooling``, the class token of the last hidden state (``cls``,
DINO's global descriptor) or the mean of the patch tokens (``mean``), L2-normalised. Both are off by default.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from dalda.config import DaldaConfig, EvaluateConfig
from dalda.metrics.spec import GroupScorer, ImageLoader, MetricSettings
from dalda.settings import EntrySettings

DEFAULT_DINO = "facebook/dinov2-small"


class DinoEmbedding(EntrySettings):
    """Which DINO embeds the images and how its tokens are pooled (the metrics and the DINO fidelity features)."""

    model: str = Field(
        DEFAULT_DINO, description="DINO(v2) checkpoint id or local folder (facebook/dino-vitb16 also works)."
    )
    pooling: Literal["cls", "mean"] = Field("cls", description="DINO embedding: class token or mean of patch tokens.")


class DinoSettings(DinoEmbedding, MetricSettings):
    enabled: bool = Field(
        False, description="Compute DINO similarity among synthetic images (embedding cosine; lower = more diverse)."
    )


class DinoRealSettings(DinoEmbedding, MetricSettings):
    enabled: bool = Field(
        False, description="Compute DINO similarity of each synthetic image against its real source (DreamBooth's)."
    )


class Dino:
    name = "dino"
    title = "DINO"
    kind = "diversity"
    higher_is_more_diverse = False
    settings_model: type[MetricSettings] = DinoSettings
    result_settings: tuple[str, ...] = ("dino_model", "dino_pooling")
    pairs_with_source = False

    def recorded_settings(self, config: DaldaConfig, settings: DinoEmbedding) -> dict[str, Any]:
        from dalda.models.dino import dino_identity

        return {
            f"{self.name}_model": dino_identity(config.models, settings.model),
            f"{self.name}_pooling": settings.pooling,
        }

    def load(self, config: DaldaConfig, settings: DinoEmbedding) -> Any:
        from dalda.models.dino import load_dino

        return load_dino(config.models, settings.model, f"evaluate.metrics.{self.name}.model", settings.pooling)

    def group_scorer(
        self, model: Any, paths: Sequence[Path], load_image: ImageLoader, evaluate: EvaluateConfig,
        settings: DinoEmbedding,
    ) -> GroupScorer:  # fmt: skip
        from dalda.metrics.cosine import embed_images, mean_cosine_by_group

        width = int(model.model.config.hidden_size)
        embeddings = embed_images(model.encode_images, width, paths, load_image, evaluate.batch_size, "DINO embeddings")
        return lambda pairs: mean_cosine_by_group(embeddings, pairs)


class DinoReal(Dino):
    """DINO similarity of each synthetic image against its real source (DreamBooth's DINO)."""

    name = "dino_real"
    title = "DINO vs real"
    settings_model = DinoRealSettings
    result_settings = ("dino_real_model", "dino_real_pooling")
    pairs_with_source = True
