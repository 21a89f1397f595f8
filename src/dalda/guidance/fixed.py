"""A fixed λ for every image (the paper's Fig. 8 sweep over λ = 0.0, 0.1, ..., 1.0)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import Field

from dalda.guidance.spec import SamplingContext
from dalda.settings import EntrySettings


class FixedSettings(EntrySettings):
    fixed_scale: float = Field(0.5, ge=0.0, le=1.0, description="The λ of every image (the paper sweeps 0.0-1.0).")


@dataclass(frozen=True)
class BoundFixed:
    settings: FixedSettings
    threshold: None = None

    def band(self, score: float) -> tuple[float, float]:
        return self.settings.fixed_scale, self.settings.fixed_scale

    def centre(self, score: float) -> float:
        return self.settings.fixed_scale

    def draw(self, size: int, score: float | None, rng: np.random.Generator) -> np.ndarray:
        return np.full(size, self.settings.fixed_scale)


@dataclass(frozen=True)
class FixedSampler:
    name: str = "fixed"
    title: str = "fixed λ"
    settings_model: type[FixedSettings] = FixedSettings
    needs_scores: bool = False

    def method_part(self, settings: FixedSettings) -> str:
        return f"fixed-{settings.fixed_scale:g}"

    def method_title(self, settings: FixedSettings) -> str:
        return f"λ={settings.fixed_scale:g}"

    def method_settings(self, part: str) -> dict[str, Any] | None:
        """``fixed-<λ>``, λ written as a plain decimal (``fixed-0.3``, ``fixed-1``, ``fixed-0.50``)."""
        value = part.removeprefix("fixed-")
        digits = value.replace(".", "", 1)
        if value == part or not (digits.isascii() and digits.isdigit()):
            return None
        return {"fixed_scale": float(value)}

    def fixed_lambda(self, settings: FixedSettings) -> float | None:
        return settings.fixed_scale

    def bind(self, settings: FixedSettings, context: SamplingContext) -> BoundFixed:
        return BoundFixed(settings)


FIXED = FixedSampler()
