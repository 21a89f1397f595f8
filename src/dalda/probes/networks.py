"""The torch modules the built-in probes are made of: backbone wrappers and head initialisations.

Kept apart from the probes' specs (``resnet50.py``, ``clip.py``) so choosing a probe, building a config or
printing one never imports torch; the specs import this module when a probe is actually trained or evaluated.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from dalda.models.clip import ClipBundle


def linear_head(feature_dim: int, num_classes: int, seed: int) -> nn.Linear:
    """A freshly initialised linear head; ``seed`` makes the initial weights repeatable (every probe without a
    special initialisation uses it)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return nn.Linear(feature_dim, num_classes)


class ResNetFeatures(nn.Module):
    """Pooled ResNet features, flattened to (B, feature_dim)."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.module(pixels).flatten(1)


class ClipImageFeatures(nn.Module):
    """CLIP's projected image embedding, L2-normalised unless ``normalize`` is off; other input sizes interpolate
    the position embeddings."""

    def __init__(self, clip: ClipBundle, image_size: int, normalize: bool = True) -> None:
        super().__init__()
        self.vision_model = clip.model.vision_model
        self.visual_projection = clip.model.visual_projection
        self.interpolate = image_size != int(clip.model.config.vision_config.image_size)
        self.normalize = normalize

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        pooled = self.vision_model(pixel_values=pixels, interpolate_pos_encoding=self.interpolate).pooler_output
        features = self.visual_projection(pooled)
        return nn.functional.normalize(features, dim=-1) if self.normalize else features


def class_prompts(classes: Sequence[str], template: str) -> list[str]:
    """The prompt of each class, e.g. "a photo of a Abyssinian"."""
    return [template.format(name) for name in classes]


def zero_shot_head(clip: ClipBundle, classes: Sequence[str], template: str) -> nn.Linear:
    """A head whose logits on normalised CLIP image features equal CLIP's zero-shot logits."""
    text = clip.encode_texts(class_prompts(classes, template))
    head = nn.Linear(text.shape[1], len(classes))
    with torch.no_grad():
        head.weight.copy_(text * clip.logit_scale)
        head.bias.zero_()
    return head


@torch.inference_mode()
def raw_text_features(clip: ClipBundle, texts: Sequence[str]) -> torch.Tensor:
    """(N, D) projected text features WITHOUT L2 normalisation (CLIP's ``get_text_features``), float32 on CPU."""
    max_length = int(clip.model.config.text_config.max_position_embeddings)
    tokens = clip.tokenizer(
        list(texts), padding=True, truncation=True, max_length=max_length, return_tensors="pt"
    ).to(clip.device)
    pooled = clip.model.text_model(input_ids=tokens["input_ids"], attention_mask=tokens["attention_mask"]).pooler_output
    return clip.model.text_projection(pooled).float().cpu()


def raw_text_head(clip: ClipBundle, classes: Sequence[str], template: str, seed: int) -> nn.Linear:
    """The authors' head: weight = raw text features of the class prompts, bias at PyTorch's (seeded) random init."""
    text = raw_text_features(clip, class_prompts(classes, template))
    head = linear_head(text.shape[1], len(classes), seed)
    with torch.no_grad():
        head.weight.copy_(text)
    return head
