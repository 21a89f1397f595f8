"""ResNet50 without its classification layer, the backbone of the ``resnet50`` probe, as a :class:`Backbone`.

``real``: torchvision's ImageNet weights (``IMAGENET1K_V1`` by default; ``IMAGENET1K_V2`` is what the authors'
code loads). ``full-random``: torchvision's ResNet50 with random weights; ``tiny``: a ResNet of one basic block
per stage at 32 px.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.error import URLError

import torch

from dalda.config import ModelsConfig
from dalda.models.device import freeze, resolve_device, resolve_dtype
from dalda.models.hub import ModelLoadError
from dalda.models.imagenet import IMAGENET_MEAN, IMAGENET_STD
from dalda.models.random_profiles import seeded, shape_for

SHAPES: dict[str, dict[str, Any]] = {
    "tiny": {"block": "basic", "layers": (1, 1, 1, 1), "image_size": 32},
    "full-random": {"block": "bottleneck", "layers": (3, 4, 6, 3), "image_size": 224},
}
"""torchvision's ``ResNet`` block type and blocks per stage, and the input size."""
SEED = 7
"""The seed the random model is built under (see ``random_profiles.seeded``)."""


@dataclass
class Backbone:
    """A feature extractor: images (B, 3, image_size, image_size) normalised with mean/std -> (B, feature_dim).

    Returned frozen (eval mode, gradients off) on the configured device/dtype; a trainer that fine-tunes it
    turns gradients back on (and should then train in float32, not the float16 used on CUDA by default).
    """

    module: torch.nn.Module
    feature_dim: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    image_size: int


def build_backbone(profile: str) -> tuple[torch.nn.Module, int, int]:
    """The random profile's torchvision ResNet without its classification layer: (module, feature_dim,
    image_size)."""
    from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

    shape = shape_for(SHAPES, profile, "ResNet50 backbone")
    block = BasicBlock if shape["block"] == "basic" else Bottleneck
    with seeded(SEED):
        module = ResNet(block, list(shape["layers"]))
    feature_dim = module.fc.in_features
    module.fc = torch.nn.Identity()
    return module, feature_dim, int(shape["image_size"])


def load_torchvision_resnet50(weights: str = "IMAGENET1K_V1") -> torch.nn.Module:
    """torchvision's ImageNet ResNet50, fc removed; ``weights`` names a ``ResNet50_Weights`` member.

    IMAGENET1K_V1 is the classic torchvision checkpoint; IMAGENET1K_V2 is ``ResNet50_Weights.DEFAULT``, which the
    authors' code loads (``train.protocol=authors``).
    """
    from torchvision.models import ResNet50_Weights, resnet50

    try:
        module = resnet50(weights=ResNet50_Weights[weights])
    except (URLError, OSError, RuntimeError) as error:
        raise ModelLoadError(
            "could not load torchvision's ImageNet ResNet50 weights (torch hub cache, $TORCH_HOME/hub/checkpoints): "
            f"{error}\nFix: download them once with network access, or use models.profile=tiny."
        ) from error
    module.fc = torch.nn.Identity()
    return module


def load_resnet50_backbone(cfg: ModelsConfig, weights: str = "IMAGENET1K_V1") -> Backbone:
    """ResNet50 without its classification layer; real: torchvision's ImageNet weights ``weights``.

    ``mean``/``std`` are the normalisation the weights were trained with (ImageNet); a trainer may choose
    another (the authors' code normalises with 0.5/0.5) but then departs from what the weights expect.
    """
    device = resolve_device(cfg)
    dtype = resolve_dtype(cfg, device)
    if cfg.profile == "real":
        module, feature_dim, image_size = load_torchvision_resnet50(weights), 2048, 224
    else:
        module, feature_dim, image_size = build_backbone(cfg.profile)
    return Backbone(freeze(module, device, dtype), feature_dim, IMAGENET_MEAN, IMAGENET_STD, image_size)
