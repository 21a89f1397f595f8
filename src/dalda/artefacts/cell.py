"""``cell.json``: which grid cell of an experiment a run directory is.

The run's own config says which method it ran, but not the name the grid gave it: a grid may hold variants of
one method (Fig. 9 runs ``llm-ags`` with 1, 5 and 10 prompts), which the report must keep apart. The
experiment runner writes this file; the report reads it (and so never imports the runner).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dalda.artefacts.record import JsonRecord
from dalda.rundir import RunDir


@dataclass(frozen=True)
class CellInfo(JsonRecord):
    WHAT = "experiment cell"
    MADE_BY = "experiment"

    experiment: str
    dataset: str
    """The dataset's label in the grid (its directory name); usually the dataset name."""
    method: str
    """The method's name in the grid (a registry name or an alias)."""
    shots: int
    trial: int
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def file(cls, run: RunDir) -> Path:
        return run.cell
