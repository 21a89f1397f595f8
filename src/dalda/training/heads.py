"""Linear classification heads on backbone features, and their optimisers (the authors' settings).

- ResNet50: ``Linear(2048, C)`` with PyTorch's default initialisation (seeded), Adam, lr 1e-4.
- CLIP: ``Linear(D, C)`` whose weight rows are the L2-normalised text embeddings of "a photo of a {class}"
  multiplied by CLIP's logit scale, bias 0. On L2-normalised image features its logits are exactly CLIP's
  zero-shot logits, so training starts from the zero-shot classifier. AdamW, lr 2e-4, weight decay 0.1.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
from torch import nn

from dalda.config import TrainConfig
from dalda.models.loaders import ClipBundle


def class_prompts(classes: Sequence[str], template: str) -> list[str]:
    """The prompt of each class, e.g. "a photo of a Abyssinian"."""
    return [template.format(name) for name in classes]


def linear_head(feature_dim: int, num_classes: int, seed: int) -> nn.Linear:
    """A freshly initialised linear head; ``seed`` makes the initial weights repeatable."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return nn.Linear(feature_dim, num_classes)


def zero_shot_head(clip: ClipBundle, classes: Sequence[str], template: str) -> nn.Linear:
    """A head whose logits on normalised CLIP image features equal CLIP's zero-shot logits."""
    text = clip.encode_texts(class_prompts(classes, template))
    head = nn.Linear(text.shape[1], len(classes))
    with torch.no_grad():
        head.weight.copy_(text * clip.logit_scale)
        head.bias.zero_()
    return head


def build_head(
    classifier: str, feature_dim: int, classes: Sequence[str], cfg: TrainConfig, seed: int, clip: ClipBundle | None
) -> nn.Linear:
    if classifier == "clip":
        if clip is None:
            raise ValueError("the CLIP head needs the CLIP model (text encoder) to initialise from class prompts")
        return zero_shot_head(clip, classes, cfg.clip_template)
    return linear_head(feature_dim, len(classes), seed)


def build_optimizer(classifier: str, parameters: Iterable[nn.Parameter], cfg: TrainConfig) -> torch.optim.Optimizer:
    """Adam 1e-4 for ResNet50, AdamW 2e-4 with weight decay 0.1 for CLIP (paper Tab. 4, authors' code)."""
    if classifier == "clip":
        return torch.optim.AdamW(parameters, lr=cfg.clip_lr, weight_decay=cfg.clip_weight_decay)
    return torch.optim.Adam(parameters, lr=cfg.resnet_lr)
