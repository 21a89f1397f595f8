"""CLIP-I: mean cosine of CLIP image embeddings (lower = more diverse); 1 for identical images. Two entries:

- ``clip_i``: pairs of synthetic images made from the same real image (or of the same class): how different the
  images one image prompt gave are from each other;
- ``clip_i_real``: each synthetic image against the real image it was made from, DreamBooth's CLIP-I (the
  measure the paper cites): how far generation moved away from its source.

Embeddings use CLIP's own preprocessing (``models.clip_model``) and are computed once per image, then shared by
every pairing rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dalda.config import DaldaConfig, EvaluateConfig
from dalda.metrics.spec import GroupScorer, ImageLoader
from dalda.models.clip import ClipBundle, load_clip
from dalda.progress import progress_bar


def clip_i_by_group(embeddings: torch.Tensor, pairs: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Mean cosine of each group's pairs, from unit-norm embeddings (N, D)."""
    scores = {}
    for name, index in pairs.items():
        left, right = embeddings[torch.as_tensor(index[:, 0])], embeddings[torch.as_tensor(index[:, 1])]
        scores[name] = float((left * right).sum(dim=1).mean())
    return scores


def clip_embeddings(clip: ClipBundle, paths: Sequence[Path], load_image: ImageLoader) -> torch.Tensor:
    """(N, D) unit-norm CLIP image embeddings, loading images one batch at a time (a large set never sits in memory)."""
    chunks = [torch.empty(0, clip.embed_dim)]
    with progress_bar("CLIP-I embeddings", total=len(paths)) as advance:
        for start in range(0, len(paths), clip.batch_size):
            batch = paths[start : start + clip.batch_size]
            chunks.append(clip.encode_images([load_image(path) for path in batch]))
            advance(len(batch))
    return torch.cat(chunks)


class ClipI:
    name = "clip_i"
    title = "CLIP-I"
    higher_is_more_diverse = False
    result_settings: tuple[str, ...] = ()
    pairs_with_source = False

    def enabled(self, evaluate: EvaluateConfig) -> bool:
        return evaluate.clip_i

    def settings(self, config: DaldaConfig) -> dict[str, Any]:
        return {"clip_model": config.models.clip_model}

    def load(self, config: DaldaConfig) -> ClipBundle:
        return load_clip(config.models)

    def group_scorer(
        self, model: ClipBundle, paths: Sequence[Path], load_image: ImageLoader, evaluate: EvaluateConfig
    ) -> GroupScorer:
        embeddings = clip_embeddings(model, paths, load_image)
        return lambda pairs: clip_i_by_group(embeddings, pairs)


class ClipIReal(ClipI):
    """CLIP-I of each synthetic image against its real source (DreamBooth's CLIP-I)."""

    name = "clip_i_real"
    title = "CLIP-I vs real"
    pairs_with_source = True

    def enabled(self, evaluate: EvaluateConfig) -> bool:
        return evaluate.clip_i_real
