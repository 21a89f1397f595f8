"""Trials differ in prompt order, λ noise and image seeds; one trial planned again gives the same rows.

The authors seed each trial's generation with the trial; dalda derives every plan stream from
``dalda.seeds.trial_seed(seed, trial)`` (docs/protocol.md, Trials). Trial 0 keeps the run seed, so runs made
before trials were seeded plan the same rows (``tests/test_run_files.py``).
"""

from __future__ import annotations

import logging

from dataclasses import replace

import pytest

from dalda.artefacts import PlanRow
from dalda.configure import rebuild
from dalda.data.stage import run_data_stage
from dalda.generators import GENERATORS, PlanStreams
from dalda.io import write_json_atomic
from dalda.pipeline import prepare_run
from dalda.planning.stage import build_plan, run_plan_stage
from dalda.scorers import ImageScore
from dalda.scoring.stage import run_score_stage
from dalda.seeds import trial_seed


@pytest.fixture
def ready(tiny_config):
    config = rebuild(tiny_config, {"plan": {"images_per_real": 3}, "guidance": {"strategy": "ags"}})
    run = prepare_run(config)
    split = run_data_stage(config, run)
    run_score_stage(config, run)
    prompts = {name: [f"{name} variant {k}" for k in range(6)] for name in split.classes}
    scores = {score.path: score for score in ImageScore.read_all(run)}
    return config, run, split, prompts, scores


def _plan(config, split, prompts, scores, trial: int) -> list[PlanRow]:
    """The plan of ``split``'s very images under trial ``trial``: only the trial's seed can change the rows."""
    generator = GENERATORS.get(config.generator.name)
    return build_plan(config, replace(split, trial=trial), prompts, scores, generator)


def test_trials_differ_in_prompt_order_lambda_and_seeds_and_a_trial_reproduces(ready):
    config, _, split, prompts, scores = ready
    zero, one = _plan(config, split, prompts, scores, 0), _plan(config, split, prompts, scores, 1)
    assert [(r.source_path, r.m) for r in zero] == [(r.source_path, r.m) for r in one]  # same images, same slots
    assert [r.prompt for r in zero] != [r.prompt for r in one]
    assert all(a.ip_scale != b.ip_scale for a, b in zip(zero, one, strict=True))
    assert {r.seed for r in zero}.isdisjoint({r.seed for r in one})
    assert _plan(config, split, prompts, scores, 1) == one
    assert _plan(config, split, prompts, scores, 2) != one


def test_trial_zero_plans_from_the_run_seed_as_runs_made_before_did(ready):
    config, _, split, prompts, scores = ready
    streams = PlanStreams.from_seed(config.seed)
    first_seed = streams.next_seed()
    assert _plan(config, split, prompts, scores, 0)[0].seed == first_seed
    assert trial_seed(config.seed, 0) == config.seed and trial_seed(config.seed, 1) != config.seed
    with pytest.raises(ValueError, match="data.trial"):
        trial_seed(config.seed, -1)


def test_a_replanned_run_whose_rows_change_says_so(ready, caplog):
    config, run, split, prompts, _ = ready
    write_json_atomic(run.prompts, prompts)
    run_plan_stage(config, run)
    with caplog.at_level("WARNING", logger="dalda.planning.stage"):
        run_plan_stage(config, run)
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING]  # the same plan again: nothing to say
        run_plan_stage(rebuild(config, {"seed": config.seed + 1}), run)
    assert any("differ from the plan already in" in r.getMessage() for r in caplog.records)
