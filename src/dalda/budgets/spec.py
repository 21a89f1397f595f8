"""What a budget rule is (``plan.budget``): how many synthetic images each real training image gets.

Every rule spends the same total as the paper's uniform plan, ``plan.images_per_real`` times the number of real
training images, so runs that differ only in their budget rule are compared at equal cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from dalda.config import ModelsConfig
from dalda.settings import EntrySettings


class TrainImage(Protocol):
    """What a rule reads of a real training image (``dalda.datasets.ImageRecord`` has both)."""

    @property
    def path(self) -> Path: ...

    @property
    def label(self) -> int: ...


class BudgetRule(Protocol):
    """One entry of ``BUDGETS``; ``plan.budget`` names it and its settings sit beside that field."""

    name: str
    settings_model: type[EntrySettings]

    def counts(
        self, settings: EntrySettings, train: Sequence[TrainImage], images_per_real: int, models: ModelsConfig
    ) -> list[int]:
        """Synthetic images per real training image, in ``train``'s order, summing to
        ``images_per_real * len(train)``. ``train`` is the few-shot pool only: a rule never sees evaluation
        images."""
        ...


def spread(total: int, weights: Sequence[float]) -> list[int]:
    """``total`` split in proportion to ``weights`` (largest remainders, ties to the earlier index); sums to
    ``total`` exactly."""
    share = np.asarray(weights, dtype=float)
    if len(share) == 0:
        return []
    if share.sum() <= 0:
        share = np.ones_like(share)
    exact = total * share / share.sum()
    counts = np.floor(exact).astype(int)
    remainders = exact - counts
    order = sorted(range(len(share)), key=lambda index: (-remainders[index], index))
    for index in order[: total - int(counts.sum())]:
        counts[index] += 1
    return [int(count) for count in counts]


def per_image(class_budgets: Sequence[int], labels: Sequence[int]) -> list[int]:
    """Each class's budget shared over its real images in split order, the first ones taking any remainder."""
    members: dict[int, list[int]] = {}
    for index, label in enumerate(labels):
        members.setdefault(label, []).append(index)
    counts = [0] * len(labels)
    for label, indices in members.items():
        for position, count in enumerate(spread(class_budgets[label], [1.0] * len(indices))):
            counts[indices[position]] = count
    return counts
