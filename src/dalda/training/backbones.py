"""The two classifier backbones as feature encoders: pixels -> features, plus what identifies them.

Both come from the model loaders (``dalda.models.loaders``), the one place that builds models; this module only wraps
them with one interface (``ProbeEncoder``): a module mapping normalised pixels to features, the normalisation
and input size it expects, and an ``identity`` string. The identity (classifier, profile, model id, a
fingerprint of the weights, input size, normalisation) keys the feature cache, so a cache is never reused for
features another model or another preprocessing would have produced.

- ResNet50: the pooled 2048-d features (the layer before ImageNet's classifier).
- CLIP: the projected image embedding, L2-normalised, exactly as CLIP computes it for zero-shot logits; the
  classifier head on top starts as the zero-shot classifier (``heads.py``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import torch
from torch import nn

from dalda.config import DaldaConfig
from dalda.models.loaders import ClipBundle, load_clip, load_resnet50_backbone
from dalda.training.transforms import AUTHORS_MEAN, AUTHORS_STD, ImageTransform

RESNET_MODEL_ID = "torchvision/resnet50.IMAGENET1K_V1"


class ResNetFeatures(nn.Module):
    """Pooled ResNet features, flattened to (B, feature_dim)."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.module(pixels).flatten(1)


class ClipImageFeatures(nn.Module):
    """CLIP's projected, L2-normalised image embedding; other input sizes interpolate the position embeddings."""

    def __init__(self, clip: ClipBundle, image_size: int) -> None:
        super().__init__()
        self.vision_model = clip.model.vision_model
        self.visual_projection = clip.model.visual_projection
        self.interpolate = image_size != int(clip.model.config.vision_config.image_size)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        pooled = self.vision_model(pixel_values=pixels, interpolate_pos_encoding=self.interpolate).pooler_output
        return nn.functional.normalize(self.visual_projection(pooled), dim=-1)


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
    clip: ClipBundle | None = None
    """The CLIP bundle (text encoder, logit scale) when ``classifier == "clip"``; the head is built from it."""

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


def _normalisation(config: DaldaConfig, backbone_mean, backbone_std) -> tuple[tuple[float, ...], tuple[float, ...]]:
    if config.train.normalization == "authors":
        return AUTHORS_MEAN, AUTHORS_STD
    return tuple(backbone_mean), tuple(backbone_std)


def load_probe_encoder(classifier: str, config: DaldaConfig, seed: int) -> ProbeEncoder:
    """Build the frozen backbone of ``classifier`` ("resnet50" or "clip") through the model loaders."""
    size = config.train.image_size
    clip: ClipBundle | None = None
    if classifier == "resnet50":
        backbone = load_resnet50_backbone(config.models)
        module: nn.Module = ResNetFeatures(backbone.module)
        feature_dim, mean, std = backbone.feature_dim, backbone.mean, backbone.std
        model_id = RESNET_MODEL_ID
        device = next(backbone.module.parameters()).device
        dtype = next(backbone.module.parameters()).dtype
    elif classifier == "clip":
        clip = load_clip(config.models)
        module = ClipImageFeatures(clip, size)
        feature_dim = clip.embed_dim
        processor = clip.image_processor
        mean, std = processor.image_mean, processor.image_std
        model_id, device, dtype = config.models.clip_model, clip.device, clip.dtype
    else:
        raise ValueError(f"train.classifiers has {classifier!r}; choose resnet50 or clip")
    mean, std = _normalisation(config, mean, std)
    transform = ImageTransform(size, mean, std, config.train.augmented_views, seed)
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
            f"dtype={str(dtype).removeprefix('torch.')}",
        ]
    )
    return ProbeEncoder(classifier, module, feature_dim, transform, device, dtype, identity, model_id, clip)
