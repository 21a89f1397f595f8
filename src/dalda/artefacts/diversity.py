"""``diversity.json``: how varied a run's synthetic images are (CLIP-I, LPIPS) and how that was measured.

The set of measures grows with the metrics a run enables, so the file is kept as an ordered mapping; the two
values every table reads are properties.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dalda.artefacts.record import JsonRecord
from dalda.rundir import RunDir


@dataclass(frozen=True)
class DiversityReport(JsonRecord):
    WHAT = "diversity report"
    MADE_BY = "evaluate"

    values: dict[str, Any]
    """Every key of the file, in file order (method, dataset, ..., clip_i, lpips, pairing details)."""

    @classmethod
    def file(cls, run: RunDir) -> Path:
        return run.diversity

    @property
    def clip_i(self) -> Any:
        return self.values.get("clip_i")

    @property
    def lpips(self) -> Any:
        return self.values.get("lpips")

    def to_json(self) -> dict[str, Any]:
        return self.values

    @classmethod
    def from_json(cls, payload: Any, where: object = "a JSON record") -> DiversityReport:
        if not isinstance(payload, dict):
            raise ValueError(f"{where} is not a JSON object; run `dalda evaluate` again")
        return cls(payload)
