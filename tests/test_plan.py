"""The generation plan: complete, deterministic, prompts cycled per real image, lambda per strategy."""

import pytest

from dalda.data.stage import run_data_stage
from dalda.io import write_json_atomic
from dalda.pipeline import prepare_run
from dalda.configure import rebuild
from dalda.guidance import SamplingContext, bind
from dalda.artefacts import PlanRow
from dalda.planning.stage import run_plan_stage
from dalda.scoring.stage import run_score_stage


def _with(config, **sections):
    return rebuild(config, sections)


@pytest.fixture
def ready(tiny_config):
    """A run with split, scores and hand-written prompts (6 per class, so M=3 images use 3 different ones)."""
    config = _with(tiny_config, plan={"images_per_real": 3})
    run = prepare_run(config)
    split = run_data_stage(config, run)
    run_score_stage(config, run)
    prompts = {name: [f"{name} variant {k}" for k in range(6)] for name in split.classes}
    write_json_atomic(run.prompts, prompts)
    return config, run, split, prompts


def test_plan_rows_cover_every_real_image_m_times(ready):
    config, run, split, prompts = ready
    rows = run_plan_stage(config, run)
    assert [row.row_id for row in rows] == list(range(len(split.train) * 3))
    for index, record in enumerate(split.train):
        mine = [row for row in rows if row.source_index == index]
        assert [row.m for row in mine] == [0, 1, 2]
        assert {row.source_path for row in mine} == {str(record.path)}
        assert all(row.class_name == split.classes[record.label] for row in mine)
        texts = [row.prompt.removeprefix("best quality, high quality, ") for row in mine]
        assert all(row.prompt.startswith("best quality, high quality, ") for row in mine)
        assert len(set(texts)) == 3 and set(texts) <= set(prompts[mine[0].class_name])
    # the two real images of a class use six different prompts between them (shuffled, then cycled)
    for name in split.classes:
        texts = {row.prompt for row in rows if row.class_name == name}
        assert len(texts) == 6
    assert len({row.seed for row in rows}) == len(rows)


def test_plan_is_byte_identical_for_same_config_and_seed(ready):
    config, run, _, _ = ready
    run_plan_stage(config, run)
    first = run.plan.read_bytes()
    run.plan.unlink()
    run_plan_stage(config, run)
    assert run.plan.read_bytes() == first
    other = run_plan_stage(config.model_copy(update={"seed": 1}), run)
    assert run.plan.read_bytes() != first and len(other) == len(PlanRow.read_all(run))


def test_ags_lambdas_follow_each_images_score(ready):
    config, run, split, _ = ready
    rows = run_plan_stage(config, run)
    sampler = bind(config.guidance, SamplingContext(split.shots, default_alpha=0.3))
    for row in rows:
        params = sampler.parameters(row.clipscore)
        assert row.group == params.group
        assert params.low <= row.ip_scale <= params.high


def test_changing_lambda_strategy_keeps_prompts_and_seeds(ready):
    config, run, _, _ = ready
    ags = run_plan_stage(config, run)
    fixed = run_plan_stage(_with(config, guidance={"strategy": "fixed", "fixed_scale": 0.6}), run)
    assert [(r.prompt, r.seed) for r in ags] == [(r.prompt, r.seed) for r in fixed]
    assert {r.ip_scale for r in fixed} == {0.6}
    rs = run_plan_stage(_with(config, guidance={"strategy": "random"}), run)
    assert len({r.ip_scale for r in rs}) == len(rs)


def test_base_prompt_mode_needs_no_prompts_file(ready):
    config, run, _, _ = ready
    run.prompts.unlink()
    rows = run_plan_stage(_with(config, prompts={"source": "base"}), run)
    assert {row.prompt for row in rows if row.class_name == "circle"} == {
        "best quality, high quality, a photo of a circle"
    }


def test_missing_inputs_are_clear_errors(ready):
    config, run, split, _ = ready
    write_json_atomic(run.prompts, {split.classes[0]: ["only one class"]})
    with pytest.raises(ValueError, match=split.classes[1]):
        run_plan_stage(config, run)
    run.prompts.unlink()
    with pytest.raises(FileNotFoundError, match="dalda prompts"):
        run_plan_stage(config, run)
    run.scores.unlink()
    with pytest.raises(FileNotFoundError, match="dalda score"):
        run_plan_stage(_with(config, prompts={"source": "base"}), run)


def test_baseline_rows_have_strengths_and_no_lambda(ready):
    config, run, split, _ = ready
    rows = run_plan_stage(_with(config, generator={"name": "real-guidance"}), run)
    assert {(row.generator, row.strength, row.ip_scale) for row in rows} == {("real-guidance", 0.5, None)}
    assert {row.prompt for row in rows if row.class_name == "square"} == {"a photo of a square"}
    fusion = run_plan_stage(_with(config, generator={"name": "da-fusion"}, plan={"images_per_real": 40}), run)
    assert {row.strength for row in fusion} == {0.25, 0.5, 0.75, 1.0}
    assert {row.prompt for row in fusion if row.class_name == "square"} == {"a photo of a <dalda-square>"}
