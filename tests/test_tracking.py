"""``tracking.backend=tensorboard``: the config, stage times, a sample grid and per-epoch accuracy as TensorBoard
event files, read back here with TensorBoard's own reader (dalda.tracking)."""

from __future__ import annotations

import pytest

from dalda.pipeline import run_pipeline
from dalda.rundir import RunDir
from tests.test_training_support import tiny_run_config

pytest.importorskip("tensorboard")


@pytest.mark.slow
def test_a_tracked_run_writes_config_stage_times_samples_and_per_epoch_accuracy(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    config = tiny_run_config(tmp_path, train={"classifiers": ["clip"], "epochs": 3, "iterations_per_epoch": 2,
                                              "protocol": "authors", "eval_draws": 16, "real_only_reference": False},
                             plan={"images_per_real": 1}, generator={"steps": 2, "resolution": 32},
                             tracking={"backend": "tensorboard"})  # fmt: skip
    run_pipeline(config, ["data", "score", "prompts", "plan", "generate", "train", "evaluate"])
    run = RunDir(config.out_dir)
    events = EventAccumulator(str(run.root / "tracking"), size_guidance={"scalars": 0, "images": 0, "tensors": 0})
    events.Reload()
    tags = events.Tags()
    assert {"stage_seconds/data", "stage_seconds/generate", "stage_seconds/train"} <= set(tags["scalars"])
    curve = [(event.step, event.value) for event in events.Scalars("accuracy/clip")]
    assert [step for step, _ in curve] == [1, 2, 3]  # every epoch of the authors protocol
    result = __import__("json").loads(run.result_file("clip").read_text())
    assert [value for _, value in curve] == pytest.approx([entry["macro_accuracy"] for entry in result["epochs"]])
    assert events.Scalars("final_accuracy/clip")[0].value == pytest.approx(result["accuracy"])
    (grid,) = events.Images("synthetic samples")
    assert grid.width > 0 and grid.height > 0
    assert "config" in " ".join(tags["tensors"])


def test_no_tracker_writes_nothing(tmp_path):
    config = tiny_run_config(tmp_path)
    run_pipeline(config, ["data"])
    assert not (RunDir(config.out_dir).root / "tracking").exists()
