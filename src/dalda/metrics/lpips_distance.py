"""LPIPS distances of image pairs, one group's images loaded once, pairs run in batches. Imported by the
``lpips`` entry when it scores, never at start-up (torch, torchvision)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from torchvision.transforms import InterpolationMode
from torchvision.transforms import functional as TF

from dalda.metrics.spec import ImageLoader
from dalda.progress import progress_bar


def _lpips_tensor(path: Path, size: int, load_image: ImageLoader) -> torch.Tensor:
    image = TF.resize(load_image(path), [size, size], interpolation=InterpolationMode.BILINEAR)
    return TF.pil_to_tensor(image)  # uint8: four times less memory than float while a group is held


@torch.inference_mode()
def lpips_by_group(
    model: torch.nn.Module,
    paths: Sequence[Path],
    pairs: Mapping[str, np.ndarray],
    size: int,
    batch_size: int,
    load_image: ImageLoader,
) -> dict[str, float]:
    """Mean LPIPS distance of each group's pairs; a group's images are loaded once, pairs run in batches."""
    device = next(model.parameters()).device
    scores = {}
    total = sum(len(index) for index in pairs.values())
    with progress_bar("LPIPS pairs", total=total) as advance:
        for name, index in pairs.items():
            images = {i: _lpips_tensor(paths[i], size, load_image) for i in np.unique(index)}
            distances = []
            for start in range(0, len(index), batch_size):
                chunk = index[start : start + batch_size]
                left = torch.stack([images[i] for i in chunk[:, 0]]).to(device).float() / 127.5 - 1.0
                right = torch.stack([images[j] for j in chunk[:, 1]]).to(device).float() / 127.5 - 1.0
                distances.append(model(left, right).flatten().float().cpu())
                advance(len(chunk))
            scores[name] = float(torch.cat(distances).mean())
    return scores
