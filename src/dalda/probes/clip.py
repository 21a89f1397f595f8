"""The CLIP probe: CLIP's projected image embedding and a linear head initialised from the class prompts.

``train.protocol=fast``: L2-normalised image embeddings and a head that starts as CLIP's zero-shot classifier.
The head is ``Linear(D, C)`` whose weight rows are the L2-normalised text embeddings of "a photo of a {class}"
(``train.probes.clip.template``) multiplied by CLIP's logit scale, bias 0. On L2-normalised image features its logits
are exactly CLIP's zero-shot logits, so training starts from the zero-shot classifier, and the untrained head
is the zero-shot reference evaluation reports. The authors' optimiser: AdamW, lr 2e-4, weight decay 0.1.

``train.protocol=authors``: the authors' head, ``Linear(D, C)`` whose weight rows are the RAW (unnormalised)
projected text features of the class prompts and whose bias keeps PyTorch's random initialisation (seeded),
applied to RAW projected image features: no L2 normalisation, no logit scale (docs/protocol.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
from pydantic import Field, field_validator
from torch import nn

from dalda.config import BASE_PROMPT, DaldaConfig, TrainConfig, check_class_slot
from dalda.models.clip import ClipBundle, load_clip
from dalda.probes.encoder import ProbeEncoder, probe_encoder
from dalda.probes.heads import linear_head
from dalda.settings import EntrySettings


class ClipProbeSettings(EntrySettings):
    """The authors' optimiser, and the class prompt the head starts from."""

    lr: float = Field(2e-4, gt=0.0, description="AdamW learning rate of the CLIP head.")
    weight_decay: float = Field(0.1, ge=0.0, description="AdamW weight decay of the CLIP head.")
    template: str = Field(
        BASE_PROMPT, description="Class prompt whose CLIP text embedding initialises the CLIP head (zero-shot)."
    )

    @field_validator("template")
    @classmethod
    def _one_class_slot(cls, value: str) -> str:
        return check_class_slot("train.probes.clip.template", value)


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


class ClipProbe:
    name = "clip"
    title = "Acc-CLIP"
    table_order = 0
    figure_order = 1
    zero_shot = True
    settings_model = ClipProbeSettings

    def load_backbone(self, config: DaldaConfig, seed: int) -> ProbeEncoder:
        clip = load_clip(config.models)
        raw = config.train.protocol == "authors"
        module = ClipImageFeatures(clip, config.train.image_size, normalize=not raw)
        stats = (clip.image_processor.image_mean, clip.image_processor.image_std)
        variant = "raw-features" if raw else ""
        return probe_encoder(
            self.name, module, clip.embed_dim, stats, config.models.clip_model, config, seed, clip, variant
        )

    def build_head(self, encoder: ProbeEncoder, classes: Sequence[str], train: TrainConfig, seed: int) -> nn.Linear:
        template = ClipProbeSettings.of(train.probes.get(self.name, {})).template
        if train.protocol == "authors":
            return raw_text_head(encoder.bundle, classes, template, seed)
        return zero_shot_head(encoder.bundle, classes, template)

    def optimizer(self, parameters: Iterable[nn.Parameter], train: TrainConfig) -> torch.optim.Optimizer:
        settings = ClipProbeSettings.of(train.probes.get(self.name, {}))
        return torch.optim.AdamW(parameters, lr=settings.lr, weight_decay=settings.weight_decay)
