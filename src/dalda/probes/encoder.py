"""A probe's backbone as a feature encoder: pixels -> features, plus what identifies them.

Every probe (``dalda.probes``) loads its backbone through the model kit (``dalda.models``) and wraps it in
one :class:`ProbeEncoder`: a module mapping normalised pixels to features, the transform it expects, and an
``identity`` string. The identity (classifier, profile, model id, a fingerprint of the weights, input size,
normalisation) keys the feature cache, so a cache is never reused for features another model or another
preprocessing would have produced.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from dalda.config import DaldaConfig
from dalda.probes.transforms import AUTHORS_MEAN, AUTHORS_STD, ImageTransform


@dataclass
class ProbeEncoder:
    """A classifier's backbone, ready to encode: module, transform, device/dtype and cache identity."""

    classifier: str
    module: nn.Module
    feature_dim: int
    transform: ImageTransform
    device: torch.device
    dtype: torch.dtype
    identity: str
    model_id: str
    bundle: Any = None
    """Whatever else the probe loaded with its backbone that its head builder needs (CLIP: the text encoder)."""

    def encode(self, pixels: torch.Tensor) -> torch.Tensor:
        """(B, 3, S, S) normalised pixels -> (B, D) float32 features, in whatever grad mode the caller set."""
        return self.module(pixels.to(self.device, self.dtype)).float()

    def make_trainable(self) -> None:
        """For fine-tuning the whole backbone: float32 weights, gradients on, train mode (batch-norm statistics)."""
        self.module.to(dtype=torch.float32)
        self.dtype = torch.float32
        self.module.requires_grad_(True)
        self.module.train()


def weights_fingerprint(module: nn.Module) -> str:
    """A cheap digest of a module's weights (shapes, sums, first values), so a cache can tell two models apart."""
    digest = hashlib.sha256()
    with torch.no_grad():
        for name, tensor in sorted(module.state_dict().items()):
            values = tensor.detach().double().flatten()
            digest.update(f"{name}{tuple(tensor.shape)}{values.sum().item():.10e}".encode())
            digest.update(values[:16].cpu().numpy().tobytes())
    return digest.hexdigest()[:16]


def probe_encoder(
    classifier: str,
    module: nn.Module,
    feature_dim: int,
    backbone_stats: tuple[Sequence[float], Sequence[float]],
    model_id: str,
    config: DaldaConfig,
    seed: int,
    bundle: Any = None,
    variant: str = "",
) -> ProbeEncoder:
    """Wrap a loaded backbone: choose the normalisation (``train.normalization``), the transform and the identity.

    ``backbone_stats`` is the (mean, std) the weights were trained with, used when ``train.normalization`` is
    ``backbone``; ``authors`` uses mean = std = 0.5. The device and dtype are the module's own.
    ``variant`` names another feature definition of the same weights (CLIP's raw, unnormalised features) and joins
    the identity.
    """
    size = config.train.image_size
    if config.train.normalization == "authors":
        mean, std = AUTHORS_MEAN, AUTHORS_STD
    else:
        mean, std = tuple(backbone_stats[0]), tuple(backbone_stats[1])
    transform = ImageTransform(size, mean, std, config.train.augmented_views, seed)
    parameter = next(module.parameters())
    if config.models.profile != "real":
        model_id = f"{model_id} (random weights)"
    identity = "|".join(
        [
            classifier,
            f"profile={config.models.profile}",
            f"model={model_id}",
            f"weights={weights_fingerprint(module)}",
            f"size={size}",
            f"mean={','.join(f'{x:g}' for x in mean)}",
            f"std={','.join(f'{x:g}' for x in std)}",
            f"dtype={str(parameter.dtype).removeprefix('torch.')}",
        ]
        + ([f"variant={variant}"] if variant else [])
    )
    return ProbeEncoder(
        classifier, module, feature_dim, transform, parameter.device, parameter.dtype, identity, model_id, bundle
    )
