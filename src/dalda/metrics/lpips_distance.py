"""LPIPS distances of image pairs, each image's features computed once. Imported by the ``lpips`` entry when it
scores, never at start-up (torch, torchvision, lpips).

LPIPS of a pair is Σ_layers spatial mean of w_l · (f̂_l(x) − f̂_l(y))², where f̂_l is the trunk's layer-l
activation normalised over channels (the ``lpips`` package's ``LPIPS.forward``). The normalised activations of
one image do not depend on the other, so they are computed once per image of a group, in batches on the model's
device, and each pair only takes the weighted squared difference: a group of N images with P pairs runs the
trunk N times instead of 2P. The activations of one group are held on the device (about 2.6 MB per image at
256 px with AlexNet).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torchvision.transforms import InterpolationMode
from torchvision.transforms import functional as TF

from dalda.metrics.spec import ImageLoader
from dalda.progress import progress_bar


def _lpips_tensor(path: Path, size: int, load_image: ImageLoader) -> torch.Tensor:
    image = TF.resize(load_image(path), [size, size], interpolation=InterpolationMode.BILINEAR)
    return TF.pil_to_tensor(image)  # uint8: four times less memory than float while a group is held


def _check_plain(model: Any) -> None:
    if getattr(model, "spatial", False) or not getattr(model, "lpips", True):
        raise ValueError("LPIPS features are only split per image for the calibrated, spatially averaged "
                         "distance (lpips.LPIPS(spatial=False, lpips=True))")


def lpips_features(model: Any, images: torch.Tensor) -> list[torch.Tensor]:
    """The channel-normalised trunk activations of uint8 images (B, 3, H, W), one tensor per layer."""
    from lpips import normalize_tensor

    device = next(model.parameters()).device
    scaled = images.to(device).float() / 127.5 - 1.0
    if model.version == "0.1":
        scaled = model.scaling_layer(scaled)
    return [normalize_tensor(layer) for layer in model.net.forward(scaled)]


def lpips_from_features(model: Any, left: Sequence[torch.Tensor], right: Sequence[torch.Tensor]) -> torch.Tensor:
    """(B,) LPIPS distances of pairs from their images' :func:`lpips_features`."""
    from lpips.lpips import spatial_average

    total = 0.0
    for layer, (a, b) in enumerate(zip(left, right, strict=True)):
        total = total + spatial_average(model.lins[layer]((a - b) ** 2), keepdim=True)
    return torch.as_tensor(total).flatten()


@torch.inference_mode()
def lpips_by_group(
    model: torch.nn.Module,
    paths: Sequence[Path],
    pairs: Mapping[str, np.ndarray],
    size: int,
    batch_size: int,
    load_image: ImageLoader,
) -> dict[str, float]:
    """Mean LPIPS distance of each group's pairs; see the module docstring."""
    _check_plain(model)
    scores = {}
    total = sum(len(index) for index in pairs.values())
    with progress_bar("LPIPS pairs", total=total) as advance:
        for name, index in pairs.items():
            members = np.unique(index)
            position = torch.as_tensor(np.searchsorted(members, index))
            chunks = [
                lpips_features(model, torch.stack([_lpips_tensor(paths[i], size, load_image) for i in batch]))
                for batch in np.array_split(members, max(1, -(-len(members) // batch_size)))
            ]
            features = [torch.cat(layer) for layer in zip(*chunks, strict=True)]
            distances = []
            for start in range(0, len(position), batch_size):
                chunk = position[start : start + batch_size]
                left = [layer[chunk[:, 0]] for layer in features]
                right = [layer[chunk[:, 1]] for layer in features]
                distances.append(lpips_from_features(model, left, right).float().cpu())
                advance(len(chunk))
            scores[name] = float(torch.cat(distances).mean())
    return scores
