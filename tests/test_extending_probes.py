"""A new classifier or diversity metric is one spec plus one registration: toy entries run through the real
train, evaluate and report stages and get their own results file, ``diversity.json`` key and report column."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from pydantic import Field

from dalda.config import ConfigError, DaldaConfig, EvaluateConfig, TrainConfig, config_to_yaml
from dalda.evaluation.stage import run_evaluate_stage
from dalda.metrics import METRICS, GroupScorer, ImageLoader, MetricSettings
from dalda.probes import PROBES
from dalda.probes.encoder import ProbeEncoder
from dalda.probes.encoder import probe_encoder
from dalda.probes.networks import linear_head
from dalda.registry import UnknownEntryError
from dalda.report.stage import build_report
from dalda.rundir import RunDir
from dalda.training.stage import run_train_stage
from test_training_support import make_run, tiny_run_config


class PooledPixels(nn.Module):
    """The mean colour of the image, mixed by a small seeded linear layer: the tiniest backbone there is."""

    def __init__(self, seed: int) -> None:
        super().__init__()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.mix = nn.Linear(3, 6)
        self.requires_grad_(False)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.mix(pixels.mean(dim=(2, 3)))


class PooledPixelsProbe:
    name = "toy-pool"
    title = "Acc-Toy"
    table_order = 2
    figure_order = 2
    zero_shot = False

    def load_backbone(self, config: DaldaConfig, seed: int) -> ProbeEncoder:
        stats = ((0.5, 0.5, 0.5), (0.25, 0.25, 0.25))
        return probe_encoder(self.name, PooledPixels(0), 6, stats, "toy/pooled-pixels", config, seed)

    def build_head(self, encoder: ProbeEncoder, classes: Sequence[str], train: TrainConfig, seed: int) -> nn.Linear:
        return linear_head(encoder.feature_dim, len(classes), seed)

    def optimizer(self, parameters: Iterable[nn.Parameter], train: TrainConfig) -> torch.optim.Optimizer:
        return torch.optim.SGD(parameters, lr=0.1)


class PixelSettings(MetricSettings):
    enabled: bool = Field(True, description="Compute the mean pixel distance.")
    size: int = Field(16, ge=1, description="Images are resized to size x size before comparing pixels.")


class MeanPixelDistance:
    """Mean absolute pixel difference of a pair (higher = more diverse), on by default, with one knob."""

    name = "pixel_distance"
    title = "Pixel-L1"
    kind = "diversity"
    higher_is_more_diverse = True
    settings_model = PixelSettings
    result_settings = ("pixel_size",)

    def recorded_settings(self, config: DaldaConfig, settings: PixelSettings) -> dict[str, Any]:
        return {"pixel_size": settings.size}

    def load(self, config: DaldaConfig, settings: PixelSettings) -> None:
        return None

    def group_scorer(
        self, model: None, paths: Sequence[Path], load_image: ImageLoader, evaluate: EvaluateConfig,
        settings: PixelSettings,
    ) -> GroupScorer:  # fmt: skip
        side = settings.size
        pixels = np.stack([np.asarray(load_image(p).resize((side, side)), dtype=np.float64) / 255 for p in paths])

        def score(pairs: Mapping[str, np.ndarray]) -> dict[str, float]:
            return {name: float(np.abs(pixels[i[:, 0]] - pixels[i[:, 1]]).mean()) for name, i in pairs.items()}

        return score


@pytest.fixture
def toy_probe():
    PROBES.register("toy-pool", PooledPixelsProbe())
    yield "toy-pool"
    PROBES.unregister("toy-pool")


@pytest.fixture
def toy_metric():
    METRICS.register("pixel_distance", MeanPixelDistance())
    yield "pixel_distance"
    METRICS.unregister("pixel_distance")


def _report_csv(run: RunDir, table: str) -> list[dict[str, str]]:
    build_report(run.root)
    with open(run.report / "tables" / f"{table}.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def _run(
    tmp_path: Path, classifiers: list[str], off: Sequence[str], metrics: dict[str, Any] | None = None, **evaluate: Any
) -> tuple[DaldaConfig, RunDir]:
    """A trained and evaluated run; the metrics named in ``off`` are disabled, ``metrics`` sets others' settings."""
    chosen = {**{name: {"enabled": False} for name in off}, **(metrics or {})}
    config = tiny_run_config(tmp_path, train={"classifiers": classifiers}, evaluate={**evaluate, "metrics": chosen})
    run, _ = make_run(config, images_per_real=2)
    run.config.write_text(config_to_yaml(config))
    run_train_stage(config, run)
    run_evaluate_stage(config, run)
    return config, run


def test_a_registered_toy_probe_trains_evaluates_and_gets_a_report_column(tmp_path, toy_probe):
    config, run = _run(tmp_path, [toy_probe], ["clip_i", "clip_i_real", "lpips"], zero_shot=False)

    assert run.checkpoint_file(toy_probe).is_file()
    result = json.loads(run.result_file(toy_probe).read_text())
    assert result["classifier"] == toy_probe and 0.0 <= result["accuracy"] <= 1.0
    assert result["models"]["model_id"] == "toy/pooled-pixels (random weights)"
    assert result["zero_shot_clip_accuracy"] is None

    row, reference = _report_csv(run, "runs")  # the run, then its real-only reference (trained alongside)
    assert float(row["Acc-Toy"]) == result["accuracy"]
    assert reference["Method"] == "real-only reference"
    assert float(reference["Acc-Toy"]) == json.loads(run.reference_result_file(toy_probe).read_text())["accuracy"]


def test_an_unknown_classifier_fails_up_front_and_at_the_train_stage_naming_the_choices(tmp_path):
    choices = r"train.classifiers='nope' is not a known classifier.*resnet50"
    with pytest.raises(ConfigError, match=choices):  # dalda.configure checks every name before any work
        tiny_run_config(tmp_path, train={"classifiers": ["nope"]})
    config = tiny_run_config(tmp_path)
    config = config.model_copy(update={"train": config.train.model_copy(update={"classifiers": ["nope"]})})
    with pytest.raises(UnknownEntryError, match=choices):  # a config that skipped the check still fails clearly
        run_train_stage(config, RunDir(config.out_dir).ensure())


def test_a_registered_toy_metric_lands_in_diversity_json_results_and_report(tmp_path, toy_metric):
    config, run = _run(tmp_path, ["resnet50"], ["clip_i", "clip_i_real"], {toy_metric: {"size": 8}}, zero_shot=False)
    assert config.evaluate.metrics[toy_metric] == {"enabled": True, "size": 8}  # resolved like a built-in's

    diversity = json.loads(run.diversity.read_text())
    assert diversity["pixel_size"] == 8 and diversity["clip_model"] is None
    assert diversity["by_source"][toy_metric]["num_groups"] == diversity["by_source"]["lpips"]["num_groups"]
    assert diversity[toy_metric] == diversity["by_source"][toy_metric]["mean"] > 0
    assert diversity["clip_i"] is None and "clip_i" not in diversity["by_source"]

    result = json.loads(run.result_file("resnet50").read_text())
    assert result["diversity"][toy_metric] == diversity[toy_metric]
    assert result["diversity"]["pixel_size"] == 8

    (row,) = [r for r in _report_csv(run, "runs") if not r["Method"].endswith("reference")]
    assert float(row["Pixel-L1 (↑)"]) == diversity[toy_metric]
    assert float(row["LPIPS (↑)"]) == diversity["lpips"]
