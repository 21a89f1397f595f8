"""The ResNet50 probe: pooled 2048-d ImageNet features, a plain linear head, Adam at ``train.probes.resnet50.lr``.

The authors' settings: ``Linear(2048, C)`` with PyTorch's default initialisation (seeded), Adam, lr 1e-4.
Weights: ``train.protocol=fast`` keeps torchvision's IMAGENET1K_V1; ``authors`` loads ``ResNet50_Weights.DEFAULT``
(IMAGENET1K_V2), as the authors' code does. Under ``authors`` the training loop also runs this backbone in
``train()`` mode, so its BatchNorm running statistics drift (``dalda.probes.protocols``; docs/protocol.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from pydantic import Field

from dalda.config import DaldaConfig, TrainConfig
from dalda.settings import EntrySettings
from dalda.protocol import probe_models

if TYPE_CHECKING:
    import torch
    from torch import nn

    from dalda.probes.encoder import ProbeEncoder

RESNET_WEIGHTS = {"fast": "IMAGENET1K_V1", "authors": "IMAGENET1K_V2"}
"""torchvision weights per ``train.protocol``; IMAGENET1K_V2 is ``ResNet50_Weights.DEFAULT``."""


class ResNet50Settings(EntrySettings):
    lr: float = Field(1e-4, gt=0.0, le=1.0, description="Adam learning rate of the ResNet50 head (the authors': 1e-4).")


class ResNet50Probe:
    name = "resnet50"
    title = "Acc-RN50"
    table_order = 1
    figure_order = 0
    zero_shot = False
    settings_model = ResNet50Settings

    def load_backbone(self, config: DaldaConfig, seed: int) -> ProbeEncoder:
        from dalda.models.resnet50 import load_resnet50_backbone
        from dalda.probes.encoder import probe_encoder
        from dalda.probes.networks import ResNetFeatures

        weights = RESNET_WEIGHTS[config.train.protocol]
        backbone = load_resnet50_backbone(probe_models(config), weights)
        module = ResNetFeatures(backbone.module)
        stats = (backbone.mean, backbone.std)
        model_id = f"torchvision/resnet50.{weights}"
        return probe_encoder(self.name, module, backbone.feature_dim, stats, model_id, config, seed)

    def build_head(self, encoder: ProbeEncoder, classes: Sequence[str], train: TrainConfig, seed: int) -> nn.Linear:
        from dalda.probes.networks import linear_head

        return linear_head(encoder.feature_dim, len(classes), seed)

    def optimizer(self, parameters: Iterable[nn.Parameter], train: TrainConfig) -> torch.optim.Optimizer:
        import torch

        return torch.optim.Adam(parameters, lr=ResNet50Settings.of(train.probes.get(self.name, {})).lr)
