"""DINO similarity: mean cosine of DINO(v2) image embeddings (lower = more diverse); 1 for identical images.

DreamBooth reports it next to CLIP-I because a self-supervised ViT, unlike CLIP, is not trained to ignore what
a caption would not mention, so it separates images of one class that differ in pose, layout or texture. Two
entries with CLIP-I's pairing rules (``evaluation/diversity.py``):

- ``dino``: pairs of synthetic images made from the same real image;
- ``dino_real``: each synthetic image against the real image it was made from (DreamBooth's DINO score).

The embedding is the class token of the last hidden state (``evaluate.dino_pooling=cls``, DINO's global
descriptor) or the mean of the patch tokens (``mean``), L2-normalised. The model is ``models.dino_model``
(``facebook/dinov2-small`` by default); both entries are off unless ``evaluate.dino`` is set.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from dalda.config import DaldaConfig, EvaluateConfig
from dalda.metrics.clip_i import clip_i_by_group
from dalda.metrics.spec import GroupScorer, ImageLoader
from dalda.models.dino import DinoBundle, dino_identity, load_dino
from dalda.progress import progress_bar


def dino_embeddings(dino: DinoBundle, paths: Sequence[Path], load_image: ImageLoader, batch_size: int) -> torch.Tensor:
    """(N, D) unit-norm DINO embeddings, one batch of images in memory at a time."""
    chunks = [torch.empty(0, int(dino.model.config.hidden_size))]
    with progress_bar("DINO embeddings", total=len(paths)) as advance:
        for start in range(0, len(paths), batch_size):
            batch = paths[start : start + batch_size]
            chunks.append(dino.encode_images([load_image(path) for path in batch]))
            advance(len(batch))
    return torch.cat(chunks)


class Dino:
    name = "dino"
    title = "DINO"
    higher_is_more_diverse = False
    result_settings: tuple[str, ...] = ("dino_model", "dino_pooling")
    pairs_with_source = False
    optional = True
    """Shown in the report only when a run has a value (off by default)."""

    def enabled(self, evaluate: EvaluateConfig) -> bool:
        return evaluate.dino

    def settings(self, config: DaldaConfig) -> dict[str, Any]:
        return {
            "dino_model": dino_identity(config.models, config.models.dino_model),
            "dino_pooling": config.evaluate.dino_pooling,
        }

    def load(self, config: DaldaConfig) -> DinoBundle:
        return load_dino(config.models, config.models.dino_model, "models.dino_model", config.evaluate.dino_pooling)

    def group_scorer(
        self, model: DinoBundle, paths: Sequence[Path], load_image: ImageLoader, evaluate: EvaluateConfig
    ) -> GroupScorer:
        embeddings = dino_embeddings(model, paths, load_image, evaluate.batch_size)
        return lambda pairs: clip_i_by_group(embeddings, pairs)


class DinoReal(Dino):
    """DINO similarity of each synthetic image against its real source (DreamBooth's DINO)."""

    name = "dino_real"
    title = "DINO vs real"
    pairs_with_source = True
