"""The High / Low alignment group of a real image (paper Sec. 3.2), written once for every stage that needs it.

The score stage records each image's group in ``scores.jsonl``, the plan stage picks AGS's lambda range by it,
and both must agree, so the rule lives here, below the stages.
"""

from __future__ import annotations

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
