"""The High / Low alignment group of a real image (paper Sec. 3.2), written once for every stage that needs it.

The score stage records each image's group in ``scores.jsonl``, the plan stage picks AGS's λ range by it, and
the report colours points by it, so the rule lives here, below the stages; the threshold α itself is resolved by
the bound λ sampler (``BoundSampler.threshold``).
"""

from __future__ import annotations

HIGH = "high"
LOW = "low"


def clipscore_group(score: float, alpha: float) -> str:
    """Low when the score is at most alpha (paper: 'score <= alpha'), High otherwise."""
    return LOW if score <= alpha else HIGH
