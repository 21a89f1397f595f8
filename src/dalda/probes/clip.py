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
from typing import TYPE_CHECKING

from pydantic import Field, field_validator

from dalda.config import BASE_PROMPT, DaldaConfig, TrainConfig, check_class_slot
from dalda.settings import EntrySettings
from dalda.protocol import probe_models

if TYPE_CHECKING:
    import torch
    from torch import nn

    from dalda.probes.encoder import ProbeEncoder


class ClipProbeSettings(EntrySettings):
    """The authors' optimiser, and the class prompt the head starts from."""

    lr: float = Field(2e-4, gt=0.0, le=1.0, description="AdamW learning rate of the CLIP head.")
    weight_decay: float = Field(0.1, ge=0.0, le=10.0, description="AdamW weight decay of the CLIP head.")
    template: str = Field(
        BASE_PROMPT, description="Class prompt whose CLIP text embedding initialises the CLIP head (zero-shot)."
    )

    @field_validator("template")
    @classmethod
    def _one_class_slot(cls, value: str) -> str:
        return check_class_slot("train.probes.clip.template", value)


class ClipProbe:
    name = "clip"
    title = "Acc-CLIP"
    table_order = 0
    figure_order = 1
    zero_shot = True
    settings_model = ClipProbeSettings

    def load_backbone(self, config: DaldaConfig, seed: int) -> ProbeEncoder:
        from dalda.models.clip import load_clip
        from dalda.probes.encoder import probe_encoder
        from dalda.probes.networks import ClipImageFeatures

        clip = load_clip(probe_models(config))
        raw = config.train.protocol == "authors"
        module = ClipImageFeatures(clip, config.train.image_size, normalize=not raw)
        stats = (clip.image_processor.image_mean, clip.image_processor.image_std)
        variant = "raw-features" if raw else ""
        return probe_encoder(
            self.name, module, clip.embed_dim, stats, config.models.clip_model, config, seed, clip, variant
        )

    def build_head(self, encoder: ProbeEncoder, classes: Sequence[str], train: TrainConfig, seed: int) -> nn.Linear:
        from dalda.probes.networks import raw_text_head, zero_shot_head

        template = ClipProbeSettings.of(train.probes.get(self.name, {})).template
        if train.protocol == "authors":
            return raw_text_head(encoder.bundle, classes, template, seed)
        return zero_shot_head(encoder.bundle, classes, template)

    def optimizer(self, parameters: Iterable[nn.Parameter], train: TrainConfig) -> torch.optim.Optimizer:
        import torch

        settings = ClipProbeSettings.of(train.probes.get(self.name, {}))
        return torch.optim.AdamW(parameters, lr=settings.lr, weight_decay=settings.weight_decay)
