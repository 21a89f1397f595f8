"""``plan.jsonl``: one row per synthetic image to make.

The plan is the contract between planning and generation: generation executes rows, sharding and resuming
work on ``row_id``, and an image depends only on its row (prompt, lambda, seed), never on batch or order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dalda.artefacts.record import JsonLinesRecord
from dalda.rundir import RunDir


@dataclass(frozen=True)
class PlanRow(JsonLinesRecord):
    WHAT = "plan"
    MADE_BY = "plan"

    row_id: int
    class_name: str
    label: int
    source_path: str
    source_index: int
    """Index of the real image in the split's training list; groups the M images made from it."""
    m: int
    """Which of the M images of this real image (0..M-1)."""
    prompt: str
    """The full text prompt fed to Stable Diffusion, prefix included."""
    ip_scale: float | None
    """The IP-Adapter image weight lambda for this image; None for the img2img baselines."""
    clipscore: float | None
    group: str | None
    """"high" or "low": the image's CLIPScore group under threshold alpha; None when the run has no scores."""
    seed: int
    """Seed of this image's own generator."""
    generator: str = "ip-adapter"
    """What makes the image: "ip-adapter" (DALDA) or a baseline ("real-guidance", "da-fusion")."""
    strength: float | None = None
    """img2img strength for the baselines; None for IP-Adapter rows."""
    scorer: str | None = None
    """The alignment scorer (``score.variant``) whose value set ``clipscore``, ``group`` and so AGS's lambda;
    None when the run has no scores (and in plans written before this field existed)."""
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def file(cls, run: RunDir) -> Path:
        return run.plan

    @property
    def file_stem(self) -> str:
        return f"{self.row_id:06d}"
