"""``tracking.backend=none``: the run directory's own files are the only record (the default)."""

from __future__ import annotations

from dataclasses import dataclass

from dalda.settings import EntrySettings, NoSettings
from dalda.trackers.spec import TrackerPlace, TrackerWriter


@dataclass(frozen=True)
class NoTracker:
    name: str = "none"
    settings_model: type[NoSettings] = NoSettings

    def open(self, place: TrackerPlace, settings: EntrySettings) -> TrackerWriter | None:
        return None


NONE = NoTracker()
