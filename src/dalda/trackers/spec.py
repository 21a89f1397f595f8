"""What a tracker backend is (``tracking.backend``): a place to write a run's numbers, not a choice of numbers.

``dalda.tracking`` decides what is sent after each stage and in which tags; a backend only opens a
:class:`TrackerWriter` on its library (TensorBoard, wandb, MLflow) and writes what it is handed. So every backend
records the same things, and a new backend is one module with an ``open`` plus one ``TRACKERS.register`` call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from dalda.artefacts import TrackerRuns
from dalda.settings import EntrySettings


@dataclass(frozen=True)
class TrackerPlace:
    """Where one dalda run is tracked: ``folder`` (``tracking.dir``) for the tracker's own files, ``project``
    (``tracking.project``), the tracker run's name (the run directory's), and ``ids``, the file in the run
    directory that keeps each backend's run id, so every later stage of the same dalda run resumes that run."""

    folder: Path
    project: str
    run_name: str
    ids: Path

    def remembered_id(self, backend: str) -> str | None:
        """The id of ``backend``'s run for this dalda run, if a stage already opened one."""
        known = TrackerRuns.read_optional(self.ids)
        return None if known is None else known.runs.get(backend)

    def remember_id(self, backend: str, run_id: str) -> None:
        known = TrackerRuns.read_optional(self.ids) or TrackerRuns()
        if known.runs.get(backend) != run_id:
            TrackerRuns({**known.runs, backend: run_id}, known.extra).write(self.ids)


class TrackerWriter(Protocol):
    """One open tracker run; ``dalda.tracking`` calls these once per stage that finished, then :meth:`close`."""

    def log_config(self, yaml_text: str, values: Mapping[str, Any], stage: str, times_run: int) -> None:
        """The resolved config a stage ran with, as YAML text and as nested values."""
        ...

    def log_scalar(self, tag: str, value: float, step: int) -> None: ...

    def log_image(self, tag: str, image: np.ndarray, step: int) -> None:
        """``image``: uint8, height x width x RGB."""
        ...

    def close(self) -> None: ...


class TrackerBackend(Protocol):
    """One entry of ``TRACKERS``; ``tracking.backend`` names it and its settings sit beside that field."""

    name: str
    settings_model: type[EntrySettings]

    def open(self, place: TrackerPlace, settings: EntrySettings) -> TrackerWriter | None:
        """A writer on the backend's run for ``place``; None when the backend writes nothing (``none``).
        Import the backend's library here, through ``dalda.extras.require``: every command checks its config
        against the registry, with or without the library installed."""
        ...
