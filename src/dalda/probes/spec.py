"""What a probe (a downstream classifier: frozen backbone + linear head) declares, so every stage can use it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Protocol

from dalda.config import DaldaConfig, TrainConfig
from dalda.settings import EntrySettings

if TYPE_CHECKING:
    import torch
    from torch import nn

    from dalda.probes.encoder import ProbeEncoder


class ProbeSpec(Protocol):
    """One classifier of ``train.classifiers``: how to load its backbone, build its head and optimise it."""

    name: str
    title: str
    """Its column in the report's tables and figures ("Acc-RN50")."""
    table_order: int
    """Position among the classifiers in Tab. 2, the runs table and the accuracy figures (lower first)."""
    figure_order: int
    """Position in Tab. 3, its t-tests and the shots figure, which list ResNet50 first as the paper does."""
    zero_shot: bool
    """Whether ``build_head`` is a zero-shot classifier (no training), which evaluation reports as a reference."""
    settings_model: type[EntrySettings]
    """Its own settings (``train.probes.<name>``), read with ``settings_model.of(train.probes.get(name, {}))``."""

    def load_backbone(self, config: DaldaConfig, seed: int) -> ProbeEncoder:
        """The frozen backbone, built through the model kit; ``seed`` seeds the augmented views.

        It follows ``config.train.protocol`` (``dalda.probes.protocols``): the weights and the feature definition
        the authors' probe uses under ``authors``; a different feature definition must change the identity.
        """
        ...

    def build_head(self, encoder: ProbeEncoder, classes: Sequence[str], train: TrainConfig, seed: int) -> nn.Linear:
        """The linear head on the encoder's features (as ``train.protocol`` defines it); ``seed`` makes a random
        initialisation repeatable."""
        ...

    def optimizer(self, parameters: Iterable[nn.Parameter], train: TrainConfig) -> torch.optim.Optimizer:
        """The optimiser of the head (and the backbone when ``train.finetune_backbone``)."""
        ...
