"""Choosing the IP-Adapter image weight lambda for each synthetic image (paper Sec. 3.2).

Three strategies:

- ``ags`` (Adaptive Guidance Scaling, the paper's method): lambda ~ TruncNormal(mu, sigma^2, min, max) with
  mu = min + (max - min)(1 - score) and sigma = sigma_per_shot * shots. Images whose CLIPScore is at most alpha
  (Low group) get the range [min_low, max_low], keeping close to the real image because the text is unlikely to
  be rendered faithfully; the High group gets [min_high, max_high], letting the text add diversity. The
  ``clipped`` variant reproduces the authors' code: a normal draw clamped into the range (mass on the bounds),
  with the High group's upper clamp widened to max + 0.1 * sqrt(shots).
- ``random`` (RS): lambda ~ Uniform(random_min, random_max).
- ``fixed``: one lambda for every image (the paper's Fig. 8 sweep).

The group, mean and range for a score are defined in ``dalda.scorers.groups`` (the report draws them too).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import truncnorm

from dalda.config import GuidanceConfig
from dalda.scorers import AgsParameters, ags_parameters, sampling_range

__all__ = ["AgsParameters", "ags_parameters", "sample_clipped_normal", "sample_lambdas", "sample_truncated_normal"]


def sample_truncated_normal(params: AgsParameters, size: int, rng: np.random.Generator) -> np.ndarray:
    """Exact truncated-normal draws: all inside [low, high], density the normal's renormalised there."""
    if params.low == params.high:
        return np.full(size, params.low)
    a = (params.low - params.mu) / params.sigma
    b = (params.high - params.mu) / params.sigma
    draws = truncnorm.rvs(a, b, loc=params.mu, scale=params.sigma, size=size, random_state=rng)
    return np.clip(draws, params.low, params.high)  # guards float round-off at the bounds only


def sample_clipped_normal(params: AgsParameters, shots: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """The authors' variant: N(mu, sigma) clamped; High group's upper bound widened by 0.1 * sqrt(shots)."""
    low, upper = sampling_range(params, shots, "clipped")
    return np.clip(rng.normal(params.mu, params.sigma, size=size), low, upper)


def sample_lambdas(
    cfg: GuidanceConfig,
    size: int,
    rng: np.random.Generator,
    score: float | None = None,
    shots: int = 1,
) -> tuple[np.ndarray, str | None]:
    """``size`` lambdas for the images made from one real image, and that image's AGS group (None if unused)."""
    if cfg.strategy == "fixed":
        return np.full(size, cfg.fixed_scale), None
    if cfg.strategy == "random":
        return rng.uniform(cfg.random_min, cfg.random_max, size=size), None
    if score is None:
        raise ValueError("guidance.strategy=ags needs a CLIPScore for every real image; run `dalda score` first")
    params = ags_parameters(score, shots, cfg)
    if cfg.ags_variant == "clipped":
        return sample_clipped_normal(params, shots, size, rng), params.group
    return sample_truncated_normal(params, size, rng), params.group
