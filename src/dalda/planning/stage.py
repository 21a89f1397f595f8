"""The plan stage (`dalda plan`): write every synthetic image to make as one row of ``plan.jsonl``."""

from __future__ import annotations

import logging

from dalda.artefacts.split import read_split_for
from dalda.config import DaldaConfig
from dalda.io import read_json
from dalda.planning.plan import base_prompts, build_plan
from dalda.planning.rows import PlanRow, write_plan
from dalda.rundir import RunDir
from dalda.scoring.stage import load_scores

log = logging.getLogger(__name__)


def _prompts_for(config: DaldaConfig, run: RunDir, classes: list[str]) -> dict[str, list[str]]:
    if config.prompts.source == "base" or config.baseline.generator != "ip-adapter":
        return base_prompts(classes, config.prompts.base_template)
    if not run.prompts.exists():
        raise FileNotFoundError(f"no prompts at {run.prompts}; run `dalda prompts` first (or prompts.source=base)")
    return read_json(run.prompts)


def run_plan_stage(config: DaldaConfig, run: RunDir) -> list[PlanRow]:
    """Build the plan from the split, the CLIPScores (when present; AGS needs them) and the prompts."""
    split = read_split_for(config.data, run)
    scores = load_scores(run) if run.scores.exists() else None
    if config.guidance.strategy == "ags" and config.baseline.generator == "ip-adapter" and scores is None:
        raise FileNotFoundError(f"guidance.strategy=ags needs CLIPScores at {run.scores}; run `dalda score` first")
    rows = build_plan(config, split, _prompts_for(config, run, split.classes), scores)
    write_plan(run.plan, rows)
    lambdas = [row.ip_scale for row in rows if row.ip_scale is not None]
    log.info("plan: %d images from %d real images (%s)", len(rows), len(split.train), config.baseline.generator)
    if lambdas:
        log.info("lambda mean %.3f (min %.3f, max %.3f)", sum(lambdas) / len(lambdas), min(lambdas), max(lambdas))
    return rows
