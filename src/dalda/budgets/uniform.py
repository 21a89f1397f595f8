"""The paper's budget: ``plan.images_per_real`` synthetic images for every real training image (M = 10)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dalda.budgets.spec import TrainImage
from dalda.config import ModelsConfig
from dalda.settings import EntrySettings, NoSettings


@dataclass(frozen=True)
class UniformBudget:
    name: str = "uniform"
    settings_model: type[NoSettings] = NoSettings

    def counts(
        self, settings: EntrySettings, train: Sequence[TrainImage], images_per_real: int, models: ModelsConfig
    ) -> list[int]:
        return [images_per_real] * len(train)


UNIFORM = UniformBudget()
