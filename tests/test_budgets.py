"""``plan.budget``: the adaptive rule keeps the uniform plan's total, gives harder classes more, and reads only
the few-shot pool (never an evaluation image)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import PIL.Image
import pytest
import torch

from dalda.artefacts import read_split_for
from dalda.budgets import BUDGETS, per_image, spread
from dalda.budgets.adaptive import class_budgets, held_out_difficulty
from dalda.configure import ConfigError, build_config
from dalda.data.stage import run_data_stage
from dalda.pipeline import prepare_run
from dalda.planning.stage import budget_counts, run_plan_stage


def test_spread_keeps_the_total_and_follows_the_weights():
    assert spread(10, [1, 1, 1]) == [4, 3, 3]
    assert spread(30, [1, 2, 3]) == [5, 10, 15]
    assert sum(spread(17, [0.3, 0.1, 0.9, 0.0])) == 17
    assert per_image([5, 2], [0, 1, 0, 1]) == [3, 1, 2, 1]


def _features(*rows):
    return torch.nn.functional.normalize(torch.tensor(rows, dtype=torch.float32), dim=-1)


def test_classes_the_held_out_reference_confuses_get_more_at_the_same_total():
    # class 0 stands apart; classes 1 and 2 lie close together, so leaving one image out confuses them
    features = _features([1, 0, 0], [0.95, 0.05, 0], [0, 1, 0.1], [0, 1, -0.1], [0, 0.9, 0.3], [0, 0.9, 0.2])
    labels = [0, 0, 1, 1, 2, 2]
    difficulty = held_out_difficulty(features, features, labels, temperature=20.0)
    assert difficulty[0] < difficulty[1] and difficulty[0] < difficulty[2]
    budgets = class_budgets(10 * len(labels), labels, difficulty, floor=0.25)
    assert sum(budgets) == 60 and budgets[0] < 20 < min(budgets[1], budgets[2])


def test_a_one_shot_class_is_judged_from_a_second_view_of_its_image():
    features = _features([1, 0, 0], [0, 1, 0], [0, 0, 1])
    views = _features([1, 0.05, 0], [0, 1, 0.05], [0.6, 0.1, 0.5])  # class 2's second view drifts to class 0
    difficulty = held_out_difficulty(features, views, [0, 1, 2], temperature=20.0)
    assert difficulty[2] > max(difficulty[0], difficulty[1])


def _config(tmp_path: Path, budget: str):
    return build_config(
        {
            "out_dir": str(tmp_path / budget),
            "data": {"dataset": "demo", "root": str(tmp_path / "demo-data"), "shots": 2},
            "models": {"profile": "tiny", "device": "cpu"},
            "prompts": {"source": "base"},
            "guidance": {"strategy": "random"},
            "plan": {"images_per_real": 4, "budget": budget},
        }
    )


def test_adaptive_plan_totals_equal_uniform_and_never_opens_an_evaluation_image(tmp_path, monkeypatch):
    plans = {}
    for budget in ("uniform", "adaptive"):
        config = _config(tmp_path, budget)
        run = prepare_run(config)
        run_data_stage(config, run)
        split = read_split_for(config.data, run)
        opened: list[str] = []
        original_open = PIL.Image.open
        monkeypatch.setattr(PIL.Image, "open", lambda path, *a, **k: opened.append(str(path)) or original_open(path, *a, **k))
        rows = run_plan_stage(config, run)
        monkeypatch.setattr(PIL.Image, "open", original_open)
        evaluation = {str(record.path) for record in split.eval}
        assert evaluation and not evaluation & set(opened)
        plans[budget] = (rows, split)
    uniform, split = plans["uniform"]
    adaptive, _ = plans["adaptive"]
    assert len(adaptive) == len(uniform) == 4 * len(split.train)
    assert [row.row_id for row in adaptive] == list(range(len(adaptive)))
    per_class = Counter(row.class_name for row in adaptive)
    assert per_class != Counter(row.class_name for row in uniform)  # the tiny CLIP sees the demo classes apart
    counts = budget_counts(_config(tmp_path, "adaptive"), split)
    for index, record in enumerate(split.train):
        assert sum(row.source_index == index for row in adaptive) == counts[index]
        assert sorted(row.m for row in adaptive if row.source_index == index) == list(range(counts[index]))


def test_budget_names_and_settings_are_checked():
    assert list(BUDGETS) == ["uniform", "adaptive"]
    assert build_config(overrides=["plan.budget=adaptive"]).plan.entry_values() == {"floor": 0.25}
    with pytest.raises(ConfigError, match="plan.budget"):
        build_config(overrides=["plan.budget=greedy"])
    with pytest.raises(ConfigError, match="floor"):
        build_config(overrides=["plan.budget=adaptive", "plan.floor=-1"])
