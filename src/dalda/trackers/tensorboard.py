"""``tracking.backend=tensorboard``: event files in ``tracking.dir``, written by ``torch.utils.tensorboard``
(needs the ``tensorboard`` package); ``tensorboard --logdir RUN/tracking`` shows them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from dalda.extras import require
from dalda.settings import EntrySettings, NoSettings
from dalda.trackers.spec import TrackerPlace, TrackerWriter


class TensorBoardWriter:
    def __init__(self, writer: Any) -> None:
        self._writer = writer

    def log_config(self, yaml_text: str, values: Mapping[str, Any], stage: str, times_run: int) -> None:
        self._writer.add_text("config", f"```\n{yaml_text}\n```", times_run)  # Markdown: keep the YAML's layout

    def log_scalar(self, tag: str, value: float, step: int) -> None:
        self._writer.add_scalar(tag, value, step)

    def log_image(self, tag: str, image: np.ndarray, step: int) -> None:
        self._writer.add_image(tag, image, step, dataformats="HWC")

    def close(self) -> None:
        self._writer.close()


@dataclass(frozen=True)
class TensorBoardBackend:
    name: str = "tensorboard"
    settings_model: type[NoSettings] = NoSettings

    def open(self, place: TrackerPlace, settings: EntrySettings) -> TrackerWriter:
        require("tensorboard", "tracking", "tracking.backend=tensorboard")
        from torch.utils.tensorboard import SummaryWriter

        return TensorBoardWriter(SummaryWriter(log_dir=str(place.folder)))


TENSORBOARD = TensorBoardBackend()
