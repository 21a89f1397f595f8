"""``tracking.backend``: every backend is sent the config, the stage times, a sample grid and per-epoch accuracy
(dalda.tracking), each read back here with its library's own reader or from its own files (dalda.trackers)."""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from dalda.artefacts import TrackerRuns
from dalda.config import DaldaConfig
from dalda.extras import MissingExtraError
from dalda.ownership import history
from dalda.pipeline import run_pipeline
from dalda.rundir import RunDir
from dalda.settings import NoSettings
from dalda.trackers import TRACKERS, TrackerPlace
from dalda.trackers.wandb import mode as wandb_mode
from tests.test_training_support import tiny_run_config

STAGES = ["data", "score", "prompts", "plan", "generate", "train", "evaluate"]


def tracked_config(tmp_path: Path, backend: str) -> DaldaConfig:
    """Three epochs under the authors' protocol, so there is a per-epoch curve to log."""
    return tiny_run_config(tmp_path, train={"classifiers": ["clip"], "epochs": 3, "iterations_per_epoch": 2,
                                            "protocol": "authors", "eval_draws": 16, "real_only_reference": False},
                           plan={"images_per_real": 1}, generator={"steps": 2, "resolution": 32},
                           tracking={"backend": backend})  # fmt: skip


def stage_seconds(run: RunDir) -> dict[str, list[float]]:
    """Each stage's wall time, every time it ran, as history.jsonl records it (what the tracker must show)."""
    seconds: dict[str, list[float]] = {}
    for line in history(run.root):
        if line.get("event") == "stage":
            seconds.setdefault(line["stage"], []).append(line["seconds"])
    return seconds


def run_records(run: RunDir) -> tuple[dict[str, Any], dict[str, float]]:
    """The clip classifier's results file and each stage's seconds, for a run whose stages each ran once."""
    seconds = {stage: times for stage, (times,) in stage_seconds(run).items()}
    return json.loads(run.result_file("clip").read_text()), seconds


def test_every_backend_is_registered_and_none_writes_nothing(tmp_path):
    assert TRACKERS.names() == ["mlflow", "none", "tensorboard", "wandb"]
    config = tiny_run_config(tmp_path)
    run_pipeline(config, ["data"])
    run = RunDir(config.out_dir)
    assert not (run.root / "tracking").exists() and not run.tracker_runs.exists()


class RecordingWriter:
    def __init__(self, calls: list[tuple[Any, ...]]) -> None:
        self.calls = calls

    def log_config(self, yaml_text: str, values: Any, stage: str, times_run: int) -> None:
        self.calls.append(("config", yaml.safe_load(yaml_text) == values, stage, times_run))

    def log_scalar(self, tag: str, value: float, step: int) -> None:
        self.calls.append(("scalar", tag, value, step))

    def log_image(self, tag: str, image: Any, step: int) -> None:
        self.calls.append(("image", tag, image.shape, step))

    def close(self) -> None:
        self.calls.append(("close",))


def test_a_registered_backend_is_sent_the_config_and_stage_time_of_each_stage(tmp_path):
    calls: list[tuple[Any, ...]] = []

    class Recording:
        name = "recording"
        settings_model = NoSettings

        def open(self, place: TrackerPlace, settings: NoSettings) -> RecordingWriter:
            calls.append(("open", place.project, place.run_name, place.folder))
            return RecordingWriter(calls)

    TRACKERS.register("recording", Recording())
    try:
        config = tiny_run_config(tmp_path, tracking={"backend": "recording", "project": "toys"})
        run_pipeline(config, ["data"])
        run_pipeline(config, ["data"])
    finally:
        TRACKERS.unregister("recording")
    run = RunDir(config.out_dir)
    first, second = stage_seconds(run)["data"]
    opened = ("open", "toys", "run", run.root / "tracking")
    assert calls == [
        opened, ("config", True, "data", 1), ("scalar", "stage_seconds/data", pytest.approx(first, abs=1e-3), 1),
        ("close",),
        opened, ("config", True, "data", 2), ("scalar", "stage_seconds/data", pytest.approx(second, abs=1e-3), 2),
        ("close",),
    ]  # fmt: skip


@pytest.mark.slow
def test_tensorboard_event_files_hold_config_stage_times_samples_and_per_epoch_accuracy(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    config = tracked_config(tmp_path, "tensorboard")
    run_pipeline(config, STAGES)
    run = RunDir(config.out_dir)
    result, seconds = run_records(run)
    events = EventAccumulator(str(run.root / "tracking"), size_guidance={"scalars": 0, "images": 0, "tensors": 0})
    events.Reload()
    tags = events.Tags()
    for stage in STAGES:
        assert events.Scalars(f"stage_seconds/{stage}")[0].value == pytest.approx(seconds[stage], abs=1e-3)
    curve = [(event.step, event.value) for event in events.Scalars("accuracy/clip")]
    assert [step for step, _ in curve] == [1, 2, 3]  # every epoch of the authors protocol
    assert [value for _, value in curve] == pytest.approx([entry["macro_accuracy"] for entry in result["epochs"]])
    assert events.Scalars("final_accuracy/clip")[0].value == pytest.approx(result["accuracy"])
    (grid,) = events.Images("synthetic samples")
    assert grid.width > 0 and grid.height > 0
    assert "config" in " ".join(tags["tensors"])


def wandb_records(path: Path) -> list[Any]:
    """The records of an offline wandb run file (``run-<id>.wandb``), parsed with wandb's own protobuf classes.

    wandb has no public reader of these files; their layout is LevelDB's log format after a 7-byte wandb header:
    32 KiB blocks of chunks, each with a 7-byte header (checksum, length, type: 1 whole, 2 first, 3 middle,
    4 last), a block's tail shorter than a header left as padding.
    """
    from wandb.proto import wandb_internal_pb2

    data, block = path.read_bytes(), 32 * 1024
    assert data[:4] == b":W&B"
    records, pending, position = [], b"", 7
    while position + 7 <= len(data):
        if block - position % block < 7:
            position += block - position % block
            continue
        _, length, kind = struct.unpack("<IHB", data[position : position + 7])
        pending += data[position + 7 : position + 7 + length]
        position += 7 + length
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            records.append(record)
            pending = b""
    return records


def _items(items: Any) -> dict[str, Any]:
    return {item.key or "/".join(item.nested_key): json.loads(item.value_json) for item in items}


@pytest.mark.slow
def test_an_offline_wandb_run_holds_config_stage_times_samples_and_per_epoch_accuracy(tmp_path, monkeypatch):
    pytest.importorskip("wandb")
    for variable in ("WANDB_API_KEY", "WANDB_MODE"):
        monkeypatch.delenv(variable, raising=False)  # no key: offline, with no network
    config = tracked_config(tmp_path, "wandb")
    run_pipeline(config, STAGES)
    run = RunDir(config.out_dir)
    result, seconds = run_records(run)
    run_id = TrackerRuns.read(run).runs["wandb"]
    files = sorted((run.root / "tracking" / "wandb").glob("offline-run-*/run-*.wandb"))
    assert len(files) == len(STAGES)  # one offline part per stage, all of the same wandb run
    rows, config_updates = [], {}
    for path in files:
        records = wandb_records(path)
        (opened,) = [record.run for record in records if record.WhichOneof("record_type") == "run"]
        assert (opened.run_id, opened.project, opened.display_name) == (run_id, "dalda", "run")
        rows += [_items(record.history.item) for record in records if record.WhichOneof("record_type") == "history"]
        for record in records:
            if record.WhichOneof("record_type") == "config":
                config_updates.update(_items(record.config.update))
    for stage in STAGES:
        (value,) = [row[f"stage_seconds/{stage}"] for row in rows if f"stage_seconds/{stage}" in row]
        assert value == pytest.approx(seconds[stage], abs=1e-3)
    curve = [(row["step"], row["accuracy/clip"]) for row in rows if "accuracy/clip" in row]
    assert [step for step, _ in curve] == [1, 2, 3]
    assert [value for _, value in curve] == pytest.approx([entry["macro_accuracy"] for entry in result["epochs"]])
    assert [row["final_accuracy/clip"] for row in rows if "final_accuracy/clip" in row] == pytest.approx(
        [result["accuracy"]])  # fmt: skip
    (grid,) = [row for row in rows if row.get("synthetic samples/_type") == "image-file"]
    assert list(files[STAGES.index("generate")].parent.glob("files/" + grid["synthetic samples/path"]))
    assert config_updates["train"]["epochs"] == 3 and config_updates["tracking"]["backend"] == "wandb"


@pytest.mark.slow
def test_an_mlflow_run_holds_config_stage_times_samples_and_per_epoch_accuracy(tmp_path, monkeypatch):
    pytest.importorskip("mlflow")
    from mlflow import MlflowClient

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)  # the local store in RUN/tracking
    config = tracked_config(tmp_path, "mlflow")
    run_pipeline(config, STAGES)
    run = RunDir(config.out_dir)
    result, seconds = run_records(run)
    client = MlflowClient(tracking_uri=f"sqlite:///{run.root / 'tracking' / 'mlflow.db'}")
    (tracked,) = client.search_runs([client.get_experiment_by_name("dalda").experiment_id])  # every stage: one run
    run_id = tracked.info.run_id
    assert run_id == TrackerRuns.read(run).runs["mlflow"] and tracked.info.run_name == "run"
    for stage in STAGES:
        (point,) = client.get_metric_history(run_id, f"stage_seconds/{stage}")
        assert point.value == pytest.approx(seconds[stage], abs=1e-3)
    curve = sorted((point.step, point.value) for point in client.get_metric_history(run_id, "accuracy/clip"))
    assert [step for step, _ in curve] == [1, 2, 3]
    assert [value for _, value in curve] == pytest.approx([entry["macro_accuracy"] for entry in result["epochs"]])
    assert tracked.data.metrics["final_accuracy/clip"] == pytest.approx(result["accuracy"])
    assert tracked.data.params["train.epochs"] == "3" and tracked.data.params["tracking.backend"] == "mlflow"
    assert "synthetic_samples.png" in [artifact.path for artifact in client.list_artifacts(run_id)]
    stage_configs = [artifact.path for artifact in client.list_artifacts(run_id, "config")]
    assert sorted(stage_configs) == sorted(f"config/{stage}-1.yaml" for stage in STAGES)
    evaluated = Path(client.download_artifacts(run_id, "config/evaluate-1.yaml", str(tmp_path / "download")))
    assert yaml.safe_load(evaluated.read_text())["train"]["epochs"] == 3


def test_a_wandb_key_in_the_environment_lands_in_no_file(tmp_path, monkeypatch):
    pytest.importorskip("wandb")
    key = "daldatestkey" + "0123456789abcdef" * 2
    monkeypatch.setenv("WANDB_API_KEY", key)
    monkeypatch.setenv("WANDB_MODE", "offline")  # a key present but no network: the user's mode wins
    config = tiny_run_config(tmp_path, tracking={"backend": "wandb"})
    run_pipeline(config, ["data"])
    run = RunDir(config.out_dir)
    written = [path for path in run.root.rglob("*") if path.is_file()]
    assert list((run.root / "tracking" / "wandb").glob("offline-run-*/run-*.wandb"))  # the tracker did write
    assert [path for path in written if key.encode() in path.read_bytes()] == []


def test_wandb_runs_offline_unless_the_user_gave_a_key_or_a_mode(monkeypatch):
    for variable in ("WANDB_API_KEY", "WANDB_MODE"):
        monkeypatch.delenv(variable, raising=False)
    assert wandb_mode() == "offline"
    monkeypatch.setenv("WANDB_API_KEY", "k" * 40)
    assert wandb_mode() == "online"
    monkeypatch.setenv("WANDB_MODE", "disabled")
    assert wandb_mode() == "disabled"  # the user's mode wins, key or not


@pytest.mark.parametrize("backend", ["tensorboard", "wandb", "mlflow"])
def test_a_missing_tracker_package_names_the_tracking_extra(backend, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, backend, None)  # as if it were not installed
    place = TrackerPlace(folder=tmp_path / "tracking", project="dalda", run_name="run", ids=tmp_path / "ids.json")
    with pytest.raises(MissingExtraError, match=rf"tracking.backend={backend} needs .*'{backend}'.*dalda\[tracking\]"):
        TRACKERS.get(backend).open(place, NoSettings())
