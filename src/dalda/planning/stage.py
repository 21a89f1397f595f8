"""The plan stage (`dalda plan`): write every synthetic image to make as one row of ``plan.jsonl``.

The plan is complete before generation starts, so it can be read, diffed and sharded, and an image never
depends on which process made it or when. This stage gathers what the rows are made from (the split's real
images with their CLIPScores, the prompts, the guidance strategy) and hands it to the configured generator
(``dalda.generators``), which decides the rows. Randomness comes from three independent streams spawned from
the trial's seed (prompt order, per-image weight, per-image seeds; ``PlanStreams``, ``dalda.seeds``), so two
trials of one configuration differ and one trial planned again gives the same rows. Beside the plan it records the
method that made it (``method.json``), which labels the run's results whatever a later command's overrides say.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np

from dalda.artefacts import MethodRecord, PlanRow, PromptTable, Split, read_split_for
from dalda.budgets import BUDGETS
from dalda.chat import prompt_source
from dalda.config import DaldaConfig, base_prompts
from dalda.generators import GENERATORS, Generator, PlanInputs, PlanStreams, SourceImage
from dalda.guidance import GUIDANCE, SamplingContext, bind, clipscore_group
from dalda.methods import method_of
from dalda.rundir import RunDir
from dalda.scorers import SCORERS, ImageScore
from dalda.seeds import trial_seed
from dalda.protocol import protocol_choices

log = logging.getLogger(__name__)


def _prompts_for(config: DaldaConfig, run: RunDir, generator: Generator, classes: list[str]) -> dict[str, list[str]]:
    if config.prompts.source == "base" or not generator.uses_prompts:
        underscores = protocol_choices(config.train.protocol).base_prompt_underscores
        return base_prompts(classes, config.prompts.base_template, underscores)
    prompts = PromptTable.read(run).prompts
    missing = [name for name in classes if not prompts.get(name)]
    if missing:
        raise ValueError(
            f"no prompts for classes {missing}; re-run `dalda prompts --regenerate` or add them to "
            "prompts.prompts_file"
        )
    return prompts


def _sources(
    config: DaldaConfig, split: Split, scores: dict[str, ImageScore] | None, alpha: float
) -> list[SourceImage]:
    """Every real training image in split order, with its class, alignment score, group and scorer."""
    sources = []
    for index, record in enumerate(split.train):
        score_record = scores.get(str(record.path)) if scores else None
        score = score_record.value(config.score.variant) if score_record else None
        sources.append(
            SourceImage(
                class_name=split.classes[record.label],
                label=record.label,
                source_path=str(record.path),
                source_index=index,
                clipscore=score,
                group=clipscore_group(score, alpha) if score is not None else None,
                scorer=config.score.variant if score is not None else None,
            )
        )
    return sources


def build_plan(
    config: DaldaConfig,
    split: Split,
    prompts: dict[str, list[str]],
    scores: dict[str, ImageScore] | None,
    generator: Generator,
) -> list[PlanRow]:
    """``plan.images_per_real`` rows for every real training image, in split order, made by ``generator``."""
    streams = PlanStreams.from_seed(trial_seed(config.seed, split.trial))
    values = [scores[str(r.path)].value(config.score.variant) for r in split.train if scores and str(r.path) in scores]
    context = SamplingContext(split.shots, values, SCORERS.get(config.score.variant).default_alpha)
    sampler = bind(config.guidance, context)
    alpha = context.default_alpha if sampler.threshold is None else sampler.threshold

    def draw_lambdas(size: int, score: float | None) -> np.ndarray:
        return sampler.draw(size, score, streams.weight)

    inputs = PlanInputs(split.classes, _sources(config, split, scores, alpha), prompts, streams, draw_lambdas)
    counts = budget_counts(config, split)
    if all(count == config.plan.images_per_real for count in counts):
        return generator.plan_rows(config, inputs)
    return _within_budget(generator.plan_rows(_with_images_per_real(config, max(counts)), inputs), counts)


def budget_counts(config: DaldaConfig, split: Split) -> list[int]:
    """Synthetic images per real training image under ``plan.budget``, in split order (training images only)."""
    rule = BUDGETS.get(config.plan.budget)
    settings = BUDGETS.settings_model(config.plan.budget).of(config.plan)
    counts = rule.counts(settings, split.train, config.plan.images_per_real, config.models)
    expected = config.plan.images_per_real * len(split.train)
    if len(counts) != len(split.train) or sum(counts) != expected or min(counts, default=0) < 0:
        raise ValueError(
            f"plan.budget={config.plan.budget} gave {sum(counts)} images over {len(counts)} real images; a budget "
            f"rule must give {expected} over {len(split.train)} (plan.images_per_real per real image in total)"
        )
    return counts


def _with_images_per_real(config: DaldaConfig, images: int) -> DaldaConfig:
    return config.model_copy(update={"plan": config.plan.model_copy(update={"images_per_real": images})})


def _within_budget(rows: list[PlanRow], counts: list[int]) -> list[PlanRow]:
    """The generator's rows planned at the largest count, cut to each real image's own count and renumbered.

    Every generator plans ``plan.images_per_real`` rows per real image; planning at the largest count and keeping
    the first ``counts[i]`` of real image ``i`` gives any generator (plugins included) a per-image budget.
    """
    kept = [row for row in rows if row.m < counts[row.source_index]]
    return [replace(row, row_id=row_id) for row_id, row in enumerate(kept)]


def _warn_if_replanned(run: RunDir, rows: list[PlanRow]) -> None:
    """Say so when a run's existing plan gets different rows: their images will be made again, never silently
    (e.g. a trial 1 or later planned before trials had seeds of their own, ``dalda.seeds``)."""
    if not run.plan.is_file():
        return
    before = {row.row_id: row for row in PlanRow.read_all(run)}
    changed = sum(before.get(row.row_id) != row for row in rows) + len(before.keys() - {row.row_id for row in rows})
    if changed:
        log.warning(
            "plan: %d of %d rows differ from the plan already in %s; their images will be generated again",
            changed, len(rows), run.plan,
        )


def run_plan_stage(config: DaldaConfig, run: RunDir) -> list[PlanRow]:
    """Build the plan from the split, the CLIPScores (when present; AGS needs them) and the prompts."""
    rows = plan_for(config, run)
    split = read_split_for(config.data, run)
    generator = GENERATORS.get(config.generator.name)
    method = method_of(config, prompt_source(config, run))
    _warn_if_replanned(run, rows)
    MethodRecord.remove(run)  # never left naming an earlier plan's method, should the writes below fail
    PlanRow.write_all(run, rows)
    method.record().write(run)
    lambdas = [row.ip_scale for row in rows if row.ip_scale is not None]
    log.info("plan: %d images from %d real images (%s)", len(rows), len(split.train), generator.name)
    if lambdas:
        log.info("lambda mean %.3f (min %.3f, max %.3f)", sum(lambdas) / len(lambdas), min(lambdas), max(lambdas))
    return rows


def plan_for(config: DaldaConfig, run: RunDir) -> list[PlanRow]:
    """The rows the plan stage would write now, written nowhere (``dalda run --dry-run`` compares them with what
    is stored)."""
    generator = GENERATORS.get(config.generator.name)
    split = read_split_for(config.data, run)
    scores = {score.path: score for score in ImageScore.read_all(run)} if run.scores.is_file() else None
    strategy = config.guidance.strategy
    if GUIDANCE.get(strategy).needs_scores and generator.uses_guidance and scores is None:
        raise FileNotFoundError(f"guidance.strategy={strategy} needs alignment scores at {run.scores}; run `dalda score`")
    return build_plan(config, split, _prompts_for(config, run, generator, split.classes), scores, generator)
