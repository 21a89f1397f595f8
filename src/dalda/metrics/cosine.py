"""The maths CLIP-I and DINO similarity share: unit-norm image embeddings computed one batch at a time, and the
mean cosine of each group's pairs. Imported by those entries when they score, never at start-up (torch)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from dalda.metrics.spec import ImageLoader
from dalda.progress import progress_bar


def mean_cosine_by_group(embeddings: torch.Tensor, pairs: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Mean cosine of each group's pairs, from unit-norm embeddings (N, D)."""
    scores = {}
    for name, index in pairs.items():
        left, right = embeddings[torch.as_tensor(index[:, 0])], embeddings[torch.as_tensor(index[:, 1])]
        scores[name] = float((left * right).sum(dim=1).mean())
    return scores


def embed_images(
    encode: Callable[[list[Image.Image]], torch.Tensor],
    width: int,
    paths: Sequence[Path],
    load_image: ImageLoader,
    batch_size: int,
    label: str,
) -> torch.Tensor:
    """(N, ``width``) embeddings of ``paths``, loading one batch of images at a time (a large set never sits in
    memory); ``label`` names the progress bar."""
    chunks = [torch.empty(0, width)]
    with progress_bar(label, total=len(paths)) as advance:
        for start in range(0, len(paths), batch_size):
            batch = paths[start : start + batch_size]
            chunks.append(encode([load_image(path) for path in batch]))
            advance(len(batch))
    return torch.cat(chunks)
