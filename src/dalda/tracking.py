"""What a run sends to its experiment tracker (``tracking.backend``: an entry of ``dalda.trackers``).

The run directory stays the record (``results/``, ``history.jsonl``); the tracker is a view that tools people
already use can open (TensorBoard, wandb, MLflow), its files in ``tracking.dir`` (default ``RUN/tracking``).
This module alone decides what is sent, so every backend shows the same things; each, when the stage that makes
it finishes:

- ``config``: the resolved config as each stage ran, as YAML text and as values (secrets are never in it: keys
  come from the environment);
- ``stage_seconds/<stage>``: each stage's wall time, one point per time the stage ran;
- ``synthetic samples``: a grid of up to :data:`SAMPLES` synthetic images (after generate);
- ``accuracy/<classifier>`` per epoch (the macro accuracy of every evaluated epoch under
  ``train.protocol=authors``; the final epoch under ``fast``) and ``final_accuracy/<classifier>`` (after
  evaluate), read from the results files so the tracker shows exactly what the report shows.

Each backend needs its library (the ``tracking`` extra) and writes these its own way (``dalda.trackers``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dalda.artefacts import ClassifierResult, ManifestLine
from dalda.config import DaldaConfig, config_to_yaml
from dalda.images import load_rgb
from dalda.rundir import RunDir
from dalda.trackers import TRACKERS, TrackerPlace, TrackerWriter

SAMPLES = 16
"""Synthetic images in the sample grid."""
TILE = 96
"""Side of one image in the grid, in pixels."""


def tracking_dir(config: DaldaConfig, run: RunDir) -> Path:
    return Path(config.tracking.dir) if config.tracking.dir is not None else run.root / "tracking"


def tracker_place(config: DaldaConfig, run: RunDir) -> TrackerPlace:
    """Where ``run`` is tracked: its tracking folder, project, name (the run directory's) and tracker run ids."""
    return TrackerPlace(folder=tracking_dir(config, run), project=config.tracking.project,
                        run_name=run.root.resolve().name, ids=run.tracker_runs)  # fmt: skip


def track_stage(config: DaldaConfig, run: RunDir, stage: str, seconds: float, times_run: int) -> None:
    """Send what ``stage`` just made to the tracker (module docstring); nothing when ``tracking.backend=none``."""
    name = config.tracking.backend
    writer = TRACKERS.get(name).open(tracker_place(config, run), TRACKERS.settings_model(name).of(config.tracking))
    if writer is None:
        return
    try:
        writer.log_config(config_to_yaml(config), config.model_dump(mode="json"), stage, times_run)
        writer.log_scalar(f"stage_seconds/{stage}", seconds, times_run)
        if stage == "generate":
            grid = sample_grid(run)
            if grid is not None:
                writer.log_image("synthetic samples", grid, 0)
        if stage == "evaluate":
            for classifier in config.train.classifiers:
                _accuracies(writer, run, classifier)
    finally:
        writer.close()


def _accuracies(writer: TrackerWriter, run: RunDir, classifier: str) -> None:
    path = run.result_file(classifier)
    if not path.is_file():
        return
    result = ClassifierResult.read(path)
    for entry in result.epochs or []:
        value = entry.get("macro_accuracy") if result.accuracy_metric == "macro" else entry.get("micro_accuracy")
        if isinstance(value, (int, float)) and isinstance(entry.get("epoch"), int):
            writer.log_scalar(f"accuracy/{classifier}", float(value), entry["epoch"])
    if isinstance(result.accuracy, (int, float)):
        writer.log_scalar(f"final_accuracy/{classifier}", float(result.accuracy), 0)


def sample_grid(run: RunDir) -> np.ndarray | None:
    """Up to :data:`SAMPLES` synthetic images (spread over the manifest) as one uint8 HWC grid; None without any."""
    lines = ManifestLine.read_all(run, missing_ok=True)
    if not lines:
        return None
    chosen = [lines[int(i)] for i in np.linspace(0, len(lines) - 1, min(SAMPLES, len(lines)))]
    columns = min(4, len(chosen))
    rows = -(-len(chosen) // columns)
    grid = np.zeros((rows * TILE, columns * TILE, 3), dtype=np.uint8)
    for index, line in enumerate(chosen):
        tile = np.asarray(load_rgb(line.image_path(run.synthetic)).resize((TILE, TILE)))
        row, column = divmod(index, columns)
        grid[row * TILE : (row + 1) * TILE, column * TILE : (column + 1) * TILE] = tile
    return grid
