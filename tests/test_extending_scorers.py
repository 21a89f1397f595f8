"""Adding an alignment scorer is one entry plus one registration: a toy scorer (mean brightness), registered
here, is picked by ``score.variant``, cached in ``scores.jsonl`` and steers AGS in the real plan stage."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pytest
from PIL import Image
from scipy.stats import truncnorm

from dalda.config import ModelsConfig
from dalda.configure import build_config
from dalda.data.stage import run_data_stage
from dalda.io import read_jsonl
from dalda.pipeline import prepare_run
from dalda.guidance import SamplingContext, bind
from dalda.planning.stage import run_plan_stage
from dalda.scorers import SCORERS, Measurer, Measures
from dalda.scoring.stage import run_score_stage
from dalda.settings import NoSettings


def brightness(image: Image.Image) -> float:
    return float(np.asarray(image, dtype=np.float64).mean() / 255.0)


@dataclass(frozen=True)
class BrightnessScorer:
    """Mean pixel brightness in [0, 1]: no model, no class prompts, just enough to exercise the axis."""

    name: str = "toy-brightness"
    title: str = "mean brightness"
    default_alpha: float = 0.5
    """Half-way: a toy has no paper value to follow."""

    def identity(self, models: ModelsConfig, settings: NoSettings) -> str:
        return "brightness-v1"

    def load(
        self, models: ModelsConfig, settings: NoSettings, classes: list[str], template: str, section: str
    ) -> Measurer:
        def measure(images: list[Image.Image], labels: list[int]) -> list[Measures]:
            return [{"brightness": brightness(image)} for image in images]

        return measure

    def value(self, measures: Mapping[str, float]) -> float:
        return measures["brightness"]


@pytest.fixture
def toy_scorer():
    scorer = SCORERS.register("toy-brightness", BrightnessScorer())
    yield scorer
    SCORERS.unregister("toy-brightness")


@pytest.fixture
def config(toy_scorer, tmp_path):
    return build_config(
        {
            "out_dir": str(tmp_path / "run"),
            "data": {"dataset": "demo", "root": str(tmp_path / "demo-data"), "shots": 2},
            "models": {"profile": "tiny"},
            "score": {"variant": "toy-brightness"},
            "prompts": {"source": "base"},
            "plan": {"images_per_real": 400},
        }
    )


def test_the_scorer_is_chosen_by_score_variant_and_brings_its_alpha(config):
    def threshold(guidance):  # the α AGS uses, bound as the score and plan stages bind it
        return bind(guidance, SamplingContext(1, default_alpha=SCORERS.get(config.score.variant).default_alpha)).threshold

    assert config.guidance.alpha is None and threshold(config.guidance) == 0.5  # derived, never frozen
    assert threshold(build_config(overrides=["score.variant=toy-brightness", "guidance.alpha=0.2"]).guidance) == 0.2


def test_score_stage_stores_the_scorers_measures_and_value(config):
    run = prepare_run(config)
    split = run_data_stage(config, run)
    scores = run_score_stage(config, run)
    rows = read_jsonl(run.scores)
    for record, score, row in zip(split.train, scores, rows, strict=True):
        expected = brightness(Image.open(record.path).convert("RGB"))
        assert score.value("toy-brightness") == pytest.approx(expected)
        assert row["brightness"] == row["score"] == pytest.approx(expected)
        assert row["clip_model"] == "brightness-v1"
        assert row["group"] == ("low" if expected <= 0.5 else "high")
    assert run_score_stage(config, run) == scores  # cached: same identity, same bytes


def test_plan_lambdas_follow_the_toy_scores(config):
    run = prepare_run(config)
    split = run_data_stage(config, run)
    values = {score.path: score.value("toy-brightness") for score in run_score_stage(config, run)}
    rows = run_plan_stage(config, run)
    for record in split.train:
        mine = [row for row in rows if row.source_path == str(record.path)]
        score = values[str(record.path)]
        params = bind(config.guidance, SamplingContext(split.shots, default_alpha=0.5)).parameters(score)
        assert {row.clipscore for row in mine} == {score} and {row.group for row in mine} == {params.group}
        assert all(params.low <= row.ip_scale <= params.high for row in mine)
        # the image's lambdas average to the mean of the AGS distribution its toy score picks (4 standard errors)
        a, b = (params.low - params.mu) / params.sigma, (params.high - params.mu) / params.sigma
        expected = truncnorm.mean(a, b, loc=params.mu, scale=params.sigma)
        tolerance = 4 * params.sigma / len(mine) ** 0.5
        assert np.mean([row.ip_scale for row in mine]) == pytest.approx(expected, abs=tolerance)
