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
