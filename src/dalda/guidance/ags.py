"""Adaptive Guidance Scaling (paper Sec. 3.2, Eq. 2-3): λ from a normal whose mean falls as the score rises.

For a real image with alignment value ``s`` (CLIPScore by default), λ ~ N(μ, σ²) restricted to a range, with
μ = min + (max − min)(1 − s) and σ = ``sigma_per_shot`` × shots. Images whose score is at most α (Low group)
get the range [min_low, max_low], staying close to the real image because the text is unlikely to be rendered
faithfully; the High group gets [min_high, max_high], letting the text add diversity.

Two entries share the settings: ``ags`` draws from the true truncated normal (the paper), ``ags-clipped`` from
a normal clamped into the range (the authors' code: mass on the bounds), whose High group's upper clamp is
widened to max_high + 0.1 √shots (``docs/protocol.md``).

α is the ``alpha`` setting, else the ``alpha_quantile`` quantile of the dataset's scores, else the scorer's own
default; it is resolved when the sampler is bound, never stored back into the config.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import Field, model_validator

from dalda.guidance.spec import SamplingContext
from dalda.guidance.groups import HIGH, LOW, clipscore_group
from dalda.settings import EntrySettings


class AgsSettings(EntrySettings):
    """The paper's Tab. 4 values."""

    alpha: float | None = Field(
        None, ge=0.0, le=1.0,
        description="Score threshold between the Low and High groups; unset: alpha_quantile, else the scorer's default.",
    )
    alpha_quantile: float | None = Field(
        None, ge=0.0, le=1.0,
        description="Set alpha to this quantile of the dataset's alignment scores (e.g. 0.25: the lowest quarter "
        "of the images is Low); unset: alpha.",
    )
    min_low: float = Field(0.7, ge=0.0, le=1.0, description="Low group (score <= alpha): λ range minimum.")
    max_low: float = Field(0.9, ge=0.0, le=1.0, description="Low group: λ range maximum.")
    min_high: float = Field(0.1, ge=0.0, le=1.0, description="High group (score > alpha): λ range minimum.")
    max_high: float = Field(0.4, ge=0.0, le=1.0, description="High group: λ range maximum.")
    sigma_per_shot: float = Field(0.05, gt=0.0, le=1.0, description="σ = sigma_per_shot × shots.")

    @model_validator(mode="after")
    def _consistent(self) -> AgsSettings:
        for low, high in (("min_low", "max_low"), ("min_high", "max_high")):
            if getattr(self, low) > getattr(self, high):
                raise ValueError(
                    f"guidance.{low}={getattr(self, low)} is greater than guidance.{high}={getattr(self, high)}; "
                    f"set {low} <= {high}"
                )
        if self.alpha is not None and self.alpha_quantile is not None:
            raise ValueError(
                "guidance.alpha and guidance.alpha_quantile are both set; keep one (the quantile replaces the fixed "
                "alpha)"
            )
        return self


def resolve_alpha(settings: AgsSettings, context: SamplingContext) -> float | None:
    """The threshold in use: ``alpha``; else the ``alpha_quantile`` quantile (numpy's default, linear
    interpolation) over every scored real training image, so the score and plan stages agree (None while no image
    is scored); else the scorer's default."""
    if settings.alpha is not None:
        return settings.alpha
    if settings.alpha_quantile is None:
        return context.default_alpha
    if not context.scores:
        return None
    return float(np.quantile(np.asarray(context.scores, dtype=np.float64), settings.alpha_quantile))


@dataclass(frozen=True)
class AgsParameters:
    """The distribution AGS draws λ from for one real image."""

    group: str
    mu: float
    sigma: float
    low: float
    high: float


@dataclass(frozen=True)
class BoundAgs:
    """AGS with α resolved, for one plan."""

    settings: AgsSettings
    shots: int
    threshold: float | None
    """None only for a quantile threshold before any image is scored (drawing then fails, saying so)."""
    clipped: bool

    def parameters(self, score: float) -> AgsParameters:
        """μ, σ and range for an image with this score (paper Eq. 2-3)."""
        if not 0.0 <= score <= 1.0:
            raise ValueError(
                f"alignment score {score} is outside [0, 1]; AGS needs a score in [0, 1] (use score.variant=softmax, "
                "or a scorer whose values lie in [0, 1])"
            )
        if self.threshold is None:
            raise ValueError("guidance.alpha_quantile needs at least one scored image; run `dalda score` first")
        group = clipscore_group(score, self.threshold)
        s = self.settings
        low, high = (s.min_low, s.max_low) if group == LOW else (s.min_high, s.max_high)
        mu = low + (high - low) * (1.0 - score)
        return AgsParameters(group=group, mu=mu, sigma=s.sigma_per_shot * self.shots, low=low, high=high)

    def band(self, score: float) -> tuple[float, float]:
        params = self.parameters(score)
        if self.clipped and params.group == HIGH:
            return params.low, params.high + 0.1 * math.sqrt(self.shots)
        return params.low, params.high

    def centre(self, score: float) -> float:
        return self.parameters(score).mu

    def draw(self, size: int, score: float | None, rng: np.random.Generator) -> np.ndarray:
        if score is None:
            raise ValueError("guidance.strategy=ags needs an alignment score for every real image; run `dalda score`")
        params = self.parameters(score)
        if self.clipped:
            low, high = self.band(score)
            return np.clip(rng.normal(params.mu, params.sigma, size=size), low, high)
        if params.low == params.high:
            return np.full(size, params.low)
        from scipy.stats import truncnorm  # here, not at import: choosing a sampler stays cheap
        a = (params.low - params.mu) / params.sigma
        b = (params.high - params.mu) / params.sigma
        draws = truncnorm.rvs(a, b, loc=params.mu, scale=params.sigma, size=size, random_state=rng)
        return np.clip(draws, params.low, params.high)  # guards float round-off at the bounds only


@dataclass(frozen=True)
class AgsSampler:
    """``ags`` (truncated normal, the paper) or ``ags-clipped`` (clamped normal, the authors' code)."""

    name: str = "ags"
    clipped: bool = False
    settings_model: type[AgsSettings] = AgsSettings
    needs_scores: bool = True

    @property
    def title(self) -> str:
        return "AGS (clipped)" if self.clipped else "AGS"

    def method_part(self, settings: AgsSettings) -> str:
        return self.name

    def method_title(self, settings: AgsSettings) -> str:
        return self.title

    def method_settings(self, part: str) -> dict[str, Any] | None:
        return {} if part == self.name else None

    def fixed_lambda(self, settings: AgsSettings) -> float | None:
        return None

    def bind(self, settings: AgsSettings, context: SamplingContext) -> BoundAgs:
        return BoundAgs(settings, context.shots, resolve_alpha(settings, context), self.clipped)


AGS = AgsSampler()
AGS_CLIPPED = AgsSampler(name="ags-clipped", clipped=True)
