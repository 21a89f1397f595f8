"""What the runner records in each cell's run directory about the grid cell it belongs to.

The run's own config says which method it ran (:func:`dalda.methods.method_label`), but not the name the grid
gave it: a grid may hold variants of one method (Fig. 9 runs ``llm-ags`` with 1, 5 and 10 prompts), which the
report must keep apart. ``cell.json`` carries that name and the dataset label.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from dalda.io import read_json, write_json_atomic

CELL_FILE = "cell.json"


@dataclass(frozen=True)
class CellInfo:
    experiment: str
    dataset: str
    """The dataset's label in the grid (its directory name); usually the dataset name."""
    method: str
    """The method's name in the grid (a registry name or an alias)."""
    shots: int
    trial: int


def write_cell_info(run_root: Path, info: CellInfo) -> None:
    write_json_atomic(Path(run_root) / CELL_FILE, asdict(info))


def read_cell_info(run_root: Path) -> CellInfo | None:
    """The cell record of a run directory, or None for a run made outside an experiment (or unreadable)."""
    path = Path(run_root) / CELL_FILE
    if not path.is_file():
        return None
    try:
        return CellInfo(**read_json(path))
    except (TypeError, ValueError):
        return None
