"""``plan.jsonl``: one row per synthetic image to make.

The plan is the contract between planning and generation: generation executes rows, sharding and resuming
work on ``row_id``, and an image depends only on its row (prompt, lambda, seed), never on batch or order.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dalda.artefacts.record import JsonLinesRecord
from dalda.artefacts.split import Split, stored_path
from dalda.rundir import RunDir


def _source_base(run_root: Path) -> Path:
    """What the plan's ``source_path`` values are relative to: the split's (``split.json``'s data root, else the
    run directory), so a plan stays valid wherever the run or the data is copied, as its split does."""
    split = RunDir(run_root).split
    return Split.read(split).base(run_root) if split.is_file() else run_root


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

    @classmethod
    def read_all(cls, source: RunDir | Path, missing_ok: bool = False) -> list[PlanRow]:
        """The rows with ``source_path`` absolute (stored relative ones joined to the split's base)."""
        rows = super().read_all(source, missing_ok)
        if not rows:
            return rows
        base = _source_base(cls.path_of(source).parent)
        return [row if os.path.isabs(row.source_path) else replace(row, source_path=str(base / row.source_path)) for row in rows]

    @classmethod
    def write_all(cls, target: RunDir | Path, records: Iterable[PlanRow]) -> None:
        """Written with ``source_path`` relative to the split's base where the image lies below it."""
        base = _source_base(cls.path_of(target).parent)
        super().write_all(target, [replace(row, source_path=stored_path(Path(row.source_path), base)) for row in records])

    @property
    def file_stem(self) -> str:
        return f"{self.row_id:06d}"
