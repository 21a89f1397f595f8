"""The High / Low alignment group of a real image (paper Sec. 3.2), written once for every stage that needs it.

The score stage records each image's group in ``scores.jsonl``, the plan stage picks AGS's lambda range by it,
and both must agree, so the rule lives here, below the stages. The range and mean AGS draws lambda from for a
score (:func:`ags_parameters`, :func:`sampling_range`) live here too: the plan stage samples from them and the
report draws them as the AGS band, so both read one definition.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dalda.config import GuidanceConfig

HIGH = "high"
LOW = "low"


def clipscore_group(score: float, alpha: float) -> str:
    """Low when the score is at most alpha (paper: 'score <= alpha'), High otherwise."""
    return LOW if score <= alpha else HIGH


def resolve_alpha(alpha: float, alpha_quantile: float | None, values: list[float]) -> float:
    """The Low / High threshold in use: ``alpha``, or the ``alpha_quantile`` quantile of the dataset's scores.

    The quantile is numpy's default (linear interpolation) over every real training image's value, so the score
    and plan stages, reading the same ``scores.jsonl``, agree on it.
    """
    if alpha_quantile is None:
        return alpha
    if not values:
        raise ValueError("guidance.alpha_quantile needs at least one scored image; run `dalda score` first")
    import numpy as np

    return float(np.quantile(np.asarray(values, dtype=np.float64), alpha_quantile))


@dataclass(frozen=True)
class AgsParameters:
    """The distribution AGS samples lambda from for one real image."""

    group: str
    mu: float
    sigma: float
    low: float
    high: float


def ags_parameters(score: float, shots: int, cfg: GuidanceConfig) -> AgsParameters:
    """mu, sigma and range of the truncated normal for an image with this CLIPScore (paper Eq. 2-3)."""
    if not 0.0 <= score <= 1.0:
        raise ValueError(
            f"CLIPScore {score} is outside [0, 1]; AGS needs a score in [0, 1] (use score.variant=softmax, "
            "or a cosine score clipped to [0, 1])"
        )
    group = clipscore_group(score, cfg.alpha)
    low, high = (cfg.min_low, cfg.max_low) if group == LOW else (cfg.min_high, cfg.max_high)
    mu = low + (high - low) * (1.0 - score)
    return AgsParameters(group=group, mu=mu, sigma=cfg.sigma_per_shot * shots, low=low, high=high)


def sampling_range(params: AgsParameters, shots: int, variant: str) -> tuple[float, float]:
    """The interval lambda can take: ``[low, high]`` for the truncated normal; the ``clipped`` variant (the
    authors' code) widens the High group's upper clamp by 0.1 * sqrt(shots)."""
    if variant == "clipped" and params.group == HIGH:
        return params.low, params.high + 0.1 * math.sqrt(shots)
    return params.low, params.high
