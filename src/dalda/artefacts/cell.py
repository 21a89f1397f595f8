"""``cell.json``: which grid cell of an experiment a run directory is.

The run's own config says which method it ran, but not the name the grid gave it: a grid may hold variants of
one method (Fig. 9 runs ``llm-ags`` with 1, 5 and 10 prompts), which the report must keep apart. The
experiment runner writes this file; the report reads it (and so never imports the runner).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from dalda.artefacts.errors import MissingArtefactError
from dalda.io import read_json, write_json_atomic
from dalda.rundir import RunDir


def _file(source: RunDir | Path) -> Path:
    return source.cell if isinstance(source, RunDir) else Path(source)


@dataclass(frozen=True)
class CellInfo:
    experiment: str
    dataset: str
    """The dataset's label in the grid (its directory name); usually the dataset name."""
    method: str
    """The method's name in the grid (a registry name or an alias)."""
    shots: int
    trial: int

    def write(self, target: RunDir | Path) -> None:
        write_json_atomic(_file(target), asdict(self))

    @classmethod
    def read(cls, source: RunDir | Path) -> CellInfo:
        path = _file(source)
        if not path.is_file():
            raise MissingArtefactError("experiment cell", path, "experiment")
        try:
            return cls(**read_json(path))
        except TypeError as error:
            raise ValueError(f"{path} is malformed ({error})") from None

    @classmethod
    def read_optional(cls, source: RunDir | Path) -> CellInfo | None:
        """The cell of a run directory, or None for a run made outside an experiment (or an unreadable file)."""
        try:
            return cls.read(source)
        except (MissingArtefactError, ValueError):
            return None
