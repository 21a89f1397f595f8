"""The plain linear head every probe without a special initialisation uses."""

from __future__ import annotations

import torch
from torch import nn


def linear_head(feature_dim: int, num_classes: int, seed: int) -> nn.Linear:
    """A freshly initialised linear head; ``seed`` makes the initial weights repeatable."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return nn.Linear(feature_dim, num_classes)
