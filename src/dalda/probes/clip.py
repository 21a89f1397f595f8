"""The CLIP probe: CLIP's projected, L2-normalised image embedding and a head that starts as CLIP's zero-shot
classifier.

The head is ``Linear(D, C)`` whose weight rows are the L2-normalised text embeddings of "a photo of a {class}"
(``train.clip_template``) multiplied by CLIP's logit scale, bias 0. On L2-normalised image features its logits
are exactly CLIP's zero-shot logits, so training starts from the zero-shot classifier, and the untrained head
is the zero-shot reference evaluation reports. The authors' optimiser: AdamW, lr 2e-4, weight decay 0.1.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
from torch import nn

from dalda.config import DaldaConfig, TrainConfig
from dalda.models.loaders import ClipBundle, load_clip
from dalda.probes.encoder import ProbeEncoder, probe_encoder


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


class ClipProbe:
    name = "clip"
    title = "Acc-CLIP"
    table_order = 0
    figure_order = 1
    zero_shot = True

    def load_backbone(self, config: DaldaConfig, seed: int) -> ProbeEncoder:
        clip = load_clip(config.models)
        module = ClipImageFeatures(clip, config.train.image_size)
        stats = (clip.image_processor.image_mean, clip.image_processor.image_std)
        return probe_encoder(self.name, module, clip.embed_dim, stats, config.models.clip_model, config, seed, clip)

    def build_head(self, encoder: ProbeEncoder, classes: Sequence[str], train: TrainConfig, seed: int) -> nn.Linear:
        return zero_shot_head(encoder.bundle, classes, train.clip_template)

    def optimizer(self, parameters: Iterable[nn.Parameter], train: TrainConfig) -> torch.optim.Optimizer:
        return torch.optim.AdamW(parameters, lr=train.clip_lr, weight_decay=train.clip_weight_decay)
