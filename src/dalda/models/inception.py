"""Inception-v3's pool features, on which FID and KID are defined, as an :class:`InceptionBundle`.

``real``: torchvision's ImageNet weights; ``full-random``: the same architecture with random weights (for cost
benchmarks); ``tiny``: :class:`TinyInception`, a few convolutions standing in for it in tests. Always float32
on ``models.device``.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.error import URLError

import numpy as np
import torch
from PIL import Image

from dalda.config import ModelsConfig
from dalda.models import hub
from dalda.models.device import freeze, resolve_device
from dalda.models.imagenet import IMAGENET_MEAN, IMAGENET_STD
from dalda.models.random_profiles import seeded, shape_for

SIZES = {"real": 299, "full-random": 299, "tiny": 32}
"""The side images are resized to, per profile."""
SEED = 12
"""The seed the model is built under (see ``random_profiles.seeded``)."""


class TinyInception(torch.nn.Module):
    """The ``tiny`` profile's stand-in for Inception-v3: three strided convolutions and a global average pool
    (64-d features at 32 px), so the FID/KID code path runs in tests in milliseconds."""

    def __init__(self, width: int = 64) -> None:
        super().__init__()
        self.layers = torch.nn.Sequential(
            torch.nn.Conv2d(3, 16, 3, stride=2, padding=1),
            torch.nn.ReLU(),
            torch.nn.Conv2d(16, 32, 3, stride=2, padding=1),
            torch.nn.ReLU(),
            torch.nn.Conv2d(32, width, 3, stride=2, padding=1),
            torch.nn.ReLU(),
            torch.nn.AdaptiveAvgPool2d(1),
            torch.nn.Flatten(),
        )

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.layers(pixels)


def inception_identity(cfg: ModelsConfig) -> str:
    """Names the Inception weights of ``cfg.profile``; random weights never pass for the real model."""
    if cfg.profile == "real":
        return "torchvision:inception_v3:IMAGENET1K_V1:pool3"
    return "full-random:inception_v3:pool3" if cfg.profile == "full-random" else f"{cfg.profile}-random:tiny-conv"


def _torchvision_inception(pretrained: bool) -> torch.nn.Module:
    from torchvision.models import Inception_V3_Weights, inception_v3

    if not pretrained:
        return inception_v3(weights=None, aux_logits=False, init_weights=True)
    try:
        return inception_v3(weights=Inception_V3_Weights.IMAGENET1K_V1)
    except (URLError, OSError, RuntimeError) as error:
        raise hub.ModelLoadError(
            "could not load torchvision's ImageNet Inception-v3 weights (torch hub cache, "
            f"$TORCH_HOME/hub/checkpoints): {error}\nFix: download them once with network access, set "
            "evaluate.fidelity.features=dino or clip, or use models.profile=tiny."
        ) from error


@dataclass
class InceptionBundle:
    """Inception-v3's 2048-d pool features (the layer FID and KID are defined on), images resized to ``size``
    (bilinear, no crop) and normalised with ImageNet statistics (torchvision's weights then map them to the
    [-1, 1] input their TF-ported layers expect)."""

    module: torch.nn.Module
    size: int
    device: torch.device

    @torch.inference_mode()
    def encode_images(self, images: list[Image.Image]) -> np.ndarray:
        """(N, D) float64 features (not normalised: FID compares their means and covariances)."""
        from torchvision.transforms import InterpolationMode
        from torchvision.transforms import functional as TF

        batch = []
        for image in images:
            resized = TF.resize(image.convert("RGB"), [self.size, self.size], interpolation=InterpolationMode.BILINEAR)
            batch.append(TF.normalize(TF.to_tensor(resized), IMAGENET_MEAN, IMAGENET_STD))
        features = self.module(torch.stack(batch).to(self.device))
        return features.double().cpu().numpy()


def load_inception(cfg: ModelsConfig) -> InceptionBundle:
    """Inception-v3 pool features per ``cfg.profile``; see the module docstring."""
    device = resolve_device(cfg)
    size = shape_for(SIZES, cfg.profile, "Inception model")
    with seeded(SEED):
        if cfg.profile == "tiny":
            module: torch.nn.Module = TinyInception()
        else:
            module = _torchvision_inception(cfg.profile == "real")
            module.fc = torch.nn.Identity()  # the 2048-d average pool (pool3) instead of the ImageNet logits
    return InceptionBundle(freeze(module, device, torch.float32), size, device)
