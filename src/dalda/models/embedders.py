"""Image embedders of the optional evaluation metrics: DINO(v2) and the Inception-v3 features of FID / KID.

Same contract as ``dalda.models.loaders``: the ``real`` profile loads published weights (``models.dino_model``,
a Hub id or a local folder with the published layout, ``models.offline`` honoured; torchvision's ImageNet
Inception-v3), the random profiles build the same classes offline under a fixed seed (``full-random``: the
published shapes; ``tiny``: small enough for tests), and models come back frozen on the configured device.

The shapes live here rather than in ``RandomArchitecture`` because only the evaluate stage's optional metrics
use them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from urllib.error import URLError

import numpy as np
import torch
from PIL import Image

from dalda.config import ModelsConfig
from dalda.models import hub
from dalda.models.loaders import IMAGENET_MEAN, IMAGENET_STD, _frozen, resolve_device, resolve_dtype

DINO_SHAPES: dict[str, dict[str, Any]] = {
    # facebook/dinov2-small's config.json: ViT-S/14, 384-d, 12 layers, 6 heads, trained at 518 px.
    "full-random": {"hidden_size": 384, "num_hidden_layers": 12, "num_attention_heads": 6, "image_size": 518},
    "tiny": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "mlp_ratio": 1,
             "patch_size": 8, "image_size": 32},
}  # fmt: skip
DINO_INPUT = {"full-random": (256, 224), "tiny": (32, 32)}
"""(resize of the shorter side, centre crop) of the random profiles' DINO processor; the published dinov2
processors resize to 256 and crop 224."""
_SEED = {"dino": 11, "inception": 12}


def _seeded_build(part: str, build):
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(_SEED[part])
        return build()


def _shape(table: dict[str, Any], profile: str, what: str) -> Any:
    if profile not in table:
        raise ValueError(f"models.profile={profile!r} defines no {what}; use models.profile=tiny, full-random or real")
    return table[profile]


def dino_identity(cfg: ModelsConfig) -> str:
    """Names the DINO weights; random weights never pass for the real model."""
    return cfg.dino_model if cfg.profile == "real" else f"{cfg.profile}-random:{cfg.dino_model}"


def build_dino(profile: str):
    """A random ``Dinov2Model`` and its ``BitImageProcessor`` (the dinov2 checkpoints' processor class)."""
    from transformers import BitImageProcessor, Dinov2Config, Dinov2Model

    config = Dinov2Config(**_shape(DINO_SHAPES, profile, "DINO model"))
    model = _seeded_build("dino", lambda: Dinov2Model(config))
    short, crop = DINO_INPUT[profile]
    processor = BitImageProcessor(
        size={"shortest_edge": short},
        crop_size={"height": crop, "width": crop},
        image_mean=list(IMAGENET_MEAN),
        image_std=list(IMAGENET_STD),
        do_convert_rgb=True,
    )
    return model, processor


@dataclass
class DinoBundle:
    """A DINO / DINOv2 vision transformer with its image processor.

    ``pooling``: ``cls`` reads the class token of the last (layer-normed) hidden state, which is what DINO
    trains as the global descriptor; ``mean`` averages the patch tokens instead.
    """

    model: Any  # transformers.Dinov2Model or ViTModel (facebook/dino-vitb16)
    processor: Any
    device: torch.device
    dtype: torch.dtype
    pooling: Literal["cls", "mean"] = "cls"

    @torch.inference_mode()
    def encode_images(self, images: list[Image.Image]) -> torch.Tensor:
        """(N, D) unit-norm float32 embeddings on the CPU."""
        pixels = self.processor(images=[image.convert("RGB") for image in images], return_tensors="pt")
        hidden = self.model(pixel_values=pixels["pixel_values"].to(self.device, self.dtype)).last_hidden_state
        pooled = hidden[:, 0] if self.pooling == "cls" else hidden[:, 1:].mean(dim=1)
        return torch.nn.functional.normalize(pooled.float(), dim=-1).cpu()


def load_dino(cfg: ModelsConfig, pooling: Literal["cls", "mean"] = "cls") -> DinoBundle:
    """DINO; real: ``models.dino_model`` (``facebook/dinov2-small``, ``facebook/dino-vitb16``, or a folder)."""
    from transformers import AutoImageProcessor, AutoModel

    device = resolve_device(cfg)
    dtype = resolve_dtype(cfg, device)
    if cfg.profile == "real":
        model = hub.load(AutoModel, cfg, cfg.dino_model, "models.dino_model")
        processor = hub.load(AutoImageProcessor, cfg, cfg.dino_model, "models.dino_model")
    else:
        model, processor = build_dino(cfg.profile)
    return DinoBundle(_frozen(model, device, dtype), processor, device, dtype, pooling)


# ------------------------------------------------------------------------------------------- Inception-v3


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


INCEPTION_SIZE = {"real": 299, "full-random": 299, "tiny": 32}


def inception_identity(cfg: ModelsConfig) -> str:
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
            "evaluate.fidelity_features=dino or clip, or use models.profile=tiny."
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
    """Inception-v3 pool features; ``real``: torchvision's ImageNet weights; ``full-random``: the same
    architecture with random weights (for cost benchmarks); ``tiny``: :class:`TinyInception`."""
    device = resolve_device(cfg)
    size = _shape(INCEPTION_SIZE, cfg.profile, "Inception model")
    if cfg.profile == "tiny":
        module: torch.nn.Module = _seeded_build("inception", TinyInception)
    else:
        module = _seeded_build("inception", lambda: _torchvision_inception(cfg.profile == "real"))
        module.fc = torch.nn.Identity()  # the 2048-d average pool (pool3) instead of the ImageNet logits
    return InceptionBundle(_frozen(module, device, torch.float32), size, device)
