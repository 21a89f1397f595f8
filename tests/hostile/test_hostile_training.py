"""Issue 25, item 2: training watches itself. A non-finite loss or gradient stops the fit naming classifier,
epoch and learning rate; an accuracy at chance level is flagged in the results file and in the report."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from dalda.artefacts import Checkpoint, ClassifierResult
from dalda.config import config_to_yaml
from dalda.evaluation.accuracy import chance_level
from dalda.evaluation.stage import run_evaluate_stage
from dalda.report.stage import run_report_stage
from dalda.training.sampling import MixingSampler, build_pool
from dalda.training.stage import run_train_stage
from dalda.training.trainer import NonFiniteTraining, fit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from test_training_support import make_run, tiny_run_config  # noqa: E402


def _fit(lr: float, features_of, epochs: int = 3):
    torch.manual_seed(0)
    head = nn.Linear(4, 2)
    pool = build_pool([0, 1, 0, 1], [])
    sampler = MixingSampler(pool, 0.0, 4, seed=0)
    optimizer = torch.optim.Adam(head.parameters(), lr=lr)
    return fit(head, optimizer, sampler, torch.as_tensor(pool.item_labels()), features_of, epochs, 5,
               classifier="resnet50")


def _features(batch) -> torch.Tensor:
    return torch.as_tensor(batch.items, dtype=torch.float32)[:, None].repeat(1, 4)


def test_an_infinite_learning_rate_stops_the_fit_naming_classifier_epoch_and_rate():
    with pytest.raises(NonFiniteTraining, match=r"training resnet50 stopped at epoch 1/3: .*learning rate inf"):
        _fit(float("inf"), _features)


def test_a_nan_feature_stops_the_fit_in_the_epoch_it_appears():
    seen = []

    def poisoned(batch):
        seen.append(batch)
        features = _features(batch)
        return features * float("nan") if len(seen) == 7 else features  # epoch 2, second step

    with pytest.raises(NonFiniteTraining, match=r"epoch 2/3: .*learning rate 0.001"):
        _fit(1e-3, poisoned)


def test_a_finite_fit_is_untouched():
    result = _fit(1e-3, _features)
    assert len(result.epoch_losses) == 3 and all(loss == loss for loss in result.epoch_losses)


@pytest.mark.parametrize(
    ("accuracy", "metric", "counts", "flagged"),
    [(0.5, "macro", {"a": 50, "b": 50}, True), (0.95, "macro", {"a": 50, "b": 50}, False),
     (0.9, "micro", {"a": 90, "b": 10}, True),  # always answering "a" scores 0.9
     (0.2, "macro", {"a": 5, "b": 5, "c": 5, "d": 5, "e": 5}, True), (1.0, "macro", {"a": 3}, False)],
)
def test_chance_level_is_guessing_within_two_standard_errors(accuracy, metric, counts, flagged):
    assert (chance_level(accuracy, metric, counts) is not None) is flagged


def test_a_chance_level_result_is_flagged_in_the_results_file_and_the_report(tmp_path):
    config = tiny_run_config(tmp_path, train={"classifiers": ["clip"], "real_only_reference": False},
                             evaluate={"zero_shot": False, "metrics": {"lpips": {"enabled": False}}})
    run, _ = make_run(config, images_per_real=0)
    run.config.write_text(config_to_yaml(config))
    run_train_stage(config, run)
    path = run.checkpoint_file("clip")
    checkpoint = Checkpoint.read(path)
    zeroed = {name: torch.zeros_like(value) for name, value in checkpoint.head.items()}  # every logit equal
    dataclasses.replace(checkpoint, head=zeroed).write(path)
    run_evaluate_stage(config, run)
    result = ClassifierResult.read(run.result_file("clip"))
    assert result.at_chance_level is True
    assert any("at chance level" in warning for warning in result.warnings)
    index = run_report_stage(config, run)
    assert "at chance level" in Path(index).read_text()
