"""``tracking.backend=wandb``: a Weights & Biases run per dalda run, written by ``wandb`` itself.

No network is needed: without ``WANDB_API_KEY`` in the environment the run is written offline under
``tracking.dir`` (``wandb sync RUN/tracking/wandb/offline-run-*`` uploads it later); a ``WANDB_MODE`` the user set
wins either way. The key is read by wandb from the environment and never passed through dalda. Each stage opens
the run with the id kept in the run directory (``TrackerPlace.ids``), so all stages land in one wandb run.

What could carry a secret into wandb's files is switched off: the command line and host metadata (argv can
hold what the user typed), the git state (a remote URL can hold a token), code and console capture.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from dalda.extras import require
from dalda.settings import EntrySettings, NoSettings
from dalda.trackers.spec import TrackerPlace, TrackerWriter

STEP = "step"
"""The logged key every dalda metric is plotted against: each scalar carries its own step (epoch, stage run)
instead of wandb's one global counter, which would have to grow across stages."""


def mode() -> str:
    """The user's ``WANDB_MODE``, else ``online`` with a ``WANDB_API_KEY`` and ``offline`` without one.

    Read from the environment at each stage and passed to ``wandb.init``: wandb reads ``WANDB_MODE`` itself only
    when it first sets up in a process, so a long-lived process (a notebook, the grid runner) would miss a change.
    """
    return os.environ.get("WANDB_MODE") or ("online" if os.environ.get("WANDB_API_KEY") else "offline")


class WandbWriter:
    def __init__(self, wandb: Any, run: Any) -> None:
        self._wandb = wandb
        self._run = run
        self._defined: set[str] = set()

    def log_config(self, yaml_text: str, values: Mapping[str, Any], stage: str, times_run: int) -> None:
        self._run.config.update(dict(values), allow_val_change=True)  # the config as the latest stage ran

    def log_scalar(self, tag: str, value: float, step: int) -> None:
        if tag not in self._defined:
            self._run.define_metric(tag, step_metric=STEP)
            self._defined.add(tag)
        self._run.log({tag: value, STEP: step})

    def log_image(self, tag: str, image: np.ndarray, step: int) -> None:
        self._run.log({tag: self._wandb.Image(image), STEP: step})

    def close(self) -> None:
        self._run.finish()


@dataclass(frozen=True)
class WandbBackend:
    name: str = "wandb"
    settings_model: type[NoSettings] = NoSettings

    def open(self, place: TrackerPlace, settings: EntrySettings) -> TrackerWriter:
        wandb = require("wandb", "tracking", "tracking.backend=wandb")
        run_id = place.remembered_id(self.name) or uuid.uuid4().hex[:16]
        place.folder.mkdir(parents=True, exist_ok=True)
        quiet = wandb.Settings(
            silent=True, console="off", save_code=False, disable_git=True, disable_job_creation=True,
            x_disable_meta=True, x_disable_stats=True, x_save_requirements=False,
        )  # fmt: skip
        run = wandb.init(project=place.project, name=place.run_name, id=run_id, resume="allow",
                         dir=str(place.folder), mode=mode(), settings=quiet)  # fmt: skip
        place.remember_id(self.name, run_id)
        return WandbWriter(wandb, run)


WANDB = WandbBackend()
