"""The run directory's own files (``dalda.ownership`` writes them; README, "Reliability").

- ``.dalda-run.json`` (:class:`RunMarker`): dalda made this folder, so dalda may write into it;
- ``.dalda-run.owner.json`` (:class:`LockOwner`): who holds the run's lock now, for the error a second command
  gets;
- ``history.jsonl`` (:class:`HistoryLine`): one line per command and per finished stage, append-only;
- ``tracker-runs.json`` (:class:`TrackerRuns`): the run each experiment tracker keeps for this run
  (``dalda.trackers``), so every stage logs into the same one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dalda.artefacts.record import JsonLinesRecord, JsonRecord
from dalda.rundir import RunDir


@dataclass(frozen=True)
class RunMarker(JsonRecord):
    WHAT = "run marker"
    MADE_BY = "run"

    dalda_version: str
    created: str
    """UTC time the run directory was claimed."""
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def file(cls, run: RunDir) -> Path:
        return run.marker


@dataclass(frozen=True)
class LockOwner(JsonRecord):
    WHAT = "lock owner"
    MADE_BY = "run"

    pid: int
    started: str
    command: str = "dalda"
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def file(cls, run: RunDir) -> Path:
        return run.lock_owner


@dataclass(frozen=True, kw_only=True)
class HistoryLine(JsonLinesRecord):
    """A command (``event: "command"``, with its status once it ended) or a stage it finished (``"stage"``, with
    the config the stage ran with: ``dalda.ownership.last_stage_config``). Unset fields are left out of the
    line."""

    WHAT = "history"
    MADE_BY = "run"

    event: str
    stage: str | None = None
    argv: list[str] | None = None
    stages: list[str] | None = None
    overrides: list[str] | None = None
    started: str | None = None
    pid: int | None = None
    ended: str | None = None
    seconds: float | None = None
    status: str | None = None
    """"ok" or "failed" (a command)."""
    error: str | None = None
    failed_rows: int | None = None
    """Plan rows generation could not make (a command that finished)."""
    config: dict[str, Any] | None = None
    """The resolved config (``recorded_config``)."""
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def file(cls, run: RunDir) -> Path:
        return run.history

    def to_json(self) -> dict[str, Any]:
        return {key: value for key, value in super().to_json().items() if value is not None}


@dataclass(frozen=True)
class TrackerRuns(JsonRecord):
    WHAT = "tracker run ids"
    MADE_BY = "run"

    runs: dict[str, str] = field(default_factory=dict)
    """Tracker backend (``tracking.backend``) -> the id of its run for this run directory."""
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def file(cls, run: RunDir) -> Path:
        return run.tracker_runs
