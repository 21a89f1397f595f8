"""``diversity.json``: how varied a run's synthetic images are (CLIP-I, LPIPS) and how that was measured.

The set of measures grows with the metrics a run enables, so the file is kept as an ordered mapping; the two
values every table reads are properties.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dalda.artefacts.errors import MissingArtefactError
from dalda.io import read_json, write_json_atomic
from dalda.rundir import RunDir


def _file(source: RunDir | Path) -> Path:
    return source.diversity if isinstance(source, RunDir) else Path(source)


@dataclass(frozen=True)
class DiversityReport:
    values: dict[str, Any]
    """Every key of the file, in file order (method, dataset, ..., clip_i, lpips, pairing details)."""

    @property
    def clip_i(self) -> Any:
        return self.values.get("clip_i")

    @property
    def lpips(self) -> Any:
        return self.values.get("lpips")

    @classmethod
    def read(cls, source: RunDir | Path) -> DiversityReport:
        path = _file(source)
        if not path.is_file():
            raise MissingArtefactError("diversity report", path, "evaluate")
        payload = read_json(path)
        if not isinstance(payload, dict):
            raise ValueError(f"{path} is not a JSON object; run `dalda evaluate` again")
        return cls(payload)

    def write(self, target: RunDir | Path) -> None:
        write_json_atomic(_file(target), self.values)
