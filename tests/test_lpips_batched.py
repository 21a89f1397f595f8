"""LPIPS from per-image features (computed once per image, in batches) equals the package's pair-by-pair
distance: the evaluate stage's speed-up must not change the metric."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from dalda.metrics.lpips_distance import lpips_by_group, lpips_features, lpips_from_features
from dalda.models.lpips import build_lpips


@pytest.fixture(scope="module")
def model():
    return build_lpips().eval()


def _images(count: int, seed: int) -> dict[Path, Image.Image]:
    rng = np.random.default_rng(seed)
    smooth = rng.integers(0, 256, size=(count, 8, 8, 3), dtype=np.uint8)  # upscaled: image-like structure
    return {Path(f"{i}.png"): Image.fromarray(smooth[i]).resize((48, 48), Image.BILINEAR) for i in range(count)}


@torch.inference_mode()
def test_batched_features_give_the_pairwise_distance(model):
    images = torch.stack([torch.as_tensor(np.array(image)).permute(2, 0, 1) for image in _images(5, 0).values()])
    left, right = images[[0, 1, 2, 3]], images[[4, 0, 3, 3]]
    expected = model(left.float() / 127.5 - 1, right.float() / 127.5 - 1).flatten()
    features = lpips_features(model, images)
    got = lpips_from_features(model, [f[[0, 1, 2, 3]] for f in features], [f[[4, 0, 3, 3]] for f in features])
    assert torch.allclose(got, expected, rtol=1e-5, atol=1e-7)
    assert got[3] == 0 and got[:3].min() > 0


@torch.inference_mode()
def test_group_means_equal_the_pair_by_pair_means(model):
    images = _images(9, 1)
    paths = list(images)
    pairs = {"a": np.array([[0, 1], [0, 2], [1, 2], [3, 4], [2, 0]]), "b": np.array([[5, 6], [6, 7], [7, 8], [5, 8]])}
    got = lpips_by_group(model, paths, pairs, 64, 3, images.__getitem__)

    def tensor(i: int) -> torch.Tensor:
        resized = images[paths[i]].resize((64, 64), Image.BILINEAR)
        return torch.as_tensor(np.array(resized)).permute(2, 0, 1)[None].float() / 127.5 - 1

    for name, index in pairs.items():
        expected = np.mean([float(model(tensor(i), tensor(j))) for i, j in index])
        assert got[name] == pytest.approx(expected, rel=1e-5)
