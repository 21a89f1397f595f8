"""Random Scaling (RS, the paper's ablation): λ ~ Uniform(random_min, random_max), whatever the image."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import Field, model_validator

from dalda.guidance.spec import SamplingContext
from dalda.settings import EntrySettings


class RandomSettings(EntrySettings):
    random_min: float = Field(0.0, ge=0.0, le=1.0, description="λ ~ Uniform(random_min, random_max): lower end.")
    random_max: float = Field(1.0, ge=0.0, le=1.0, description="Upper end.")

    @model_validator(mode="after")
    def _ordered(self) -> RandomSettings:
        if self.random_min > self.random_max:
            raise ValueError(
                f"guidance.random_min={self.random_min} is greater than guidance.random_max={self.random_max}; "
                "set random_min <= random_max"
            )
        return self


@dataclass(frozen=True)
class BoundUniform:
    settings: RandomSettings
    threshold: None = None

    def band(self, score: float) -> tuple[float, float]:
        return self.settings.random_min, self.settings.random_max

    def centre(self, score: float) -> float:
        return (self.settings.random_min + self.settings.random_max) / 2

    def draw(self, size: int, score: float | None, rng: np.random.Generator) -> np.ndarray:
        return rng.uniform(self.settings.random_min, self.settings.random_max, size=size)


@dataclass(frozen=True)
class UniformSampler:
    name: str = "random"
    title: str = "RS"
    settings_model: type[RandomSettings] = RandomSettings
    needs_scores: bool = False

    def method_part(self, settings: RandomSettings) -> str:
        return "rs"

    def method_title(self, settings: RandomSettings) -> str:
        return self.title

    def method_settings(self, part: str) -> dict[str, Any] | None:
        return {} if part == "rs" else None

    def fixed_lambda(self, settings: RandomSettings) -> float | None:
        return None

    def bind(self, settings: RandomSettings, context: SamplingContext) -> BoundUniform:
        return BoundUniform(settings)


RANDOM = UniformSampler()
