"""The stages in pipeline order, each declaring what it reads and writes in the run directory.

Every stage is a function of (config, run directory): it reads what earlier stages wrote there and writes its
own files, so `run` is simply the chosen stages in order, and any one of them can be re-run, inspected or
resumed alone. Before the first stage starts, :func:`run_pipeline` checks that every file a chosen stage
needs is on disk or made by an earlier chosen stage, so a missing input fails at once with the command to run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dalda.artefacts.split import read_split_for
from dalda.config import DaldaConfig, config_to_yaml
from dalda.data.stage import run_data_stage
from dalda.evaluation.stage import run_evaluate_stage
from dalda.filtering.stage import run_filter_stage
from dalda.generation.stage import GenerationSummary, run_generate_stage
from dalda.io import write_text_atomic
from dalda.methods import default_stages
from dalda.planning.stage import run_plan_stage
from dalda.prompts.stage import run_prompts_stage
from dalda.report.stage import run_report_stage
from dalda.rundir import RunDir
from dalda.scoring.stage import run_score_stage
from dalda.training.stage import run_train_stage

log = logging.getLogger(__name__)

ARTEFACT_FILES: dict[str, Callable[[RunDir, DaldaConfig], list[Path]]] = {
    "split": lambda run, config: [run.split],
    "scores": lambda run, config: [run.scores],
    "prompts": lambda run, config: [run.prompts, run.prompts_record],
    "plan": lambda run, config: [run.plan],
    "synthetic images": lambda run, config: [run.manifest],
    "filter decisions": lambda run, config: [run.filter_decisions],
    "trained classifiers": lambda run, config: [run.checkpoint_file(c) for c in config.train.classifiers],
    "results": lambda run, config: [run.result_file(c) for c in config.train.classifiers] + [run.diversity],
    "report": lambda run, config: [run.report],
}
"""The run directory's artefacts by name, and the files each one is."""


@dataclass(frozen=True)
class Stage:
    name: str
    run: Callable[[DaldaConfig, RunDir], Any]
    needs: tuple[str, ...]
    """Artefacts (:data:`ARTEFACT_FILES`) the stage cannot start without."""
    makes: tuple[str, ...]


def _prompts(config: DaldaConfig, run: RunDir) -> dict[str, list[str]]:
    """The prompts stage on the split's classes."""
    return run_prompts_stage(config, read_split_for(config.data, run).classes, run)


def _generate(config: DaldaConfig, run: RunDir) -> GenerationSummary:
    """The generate stage, then one summary line (and a warning naming a failed row, if any)."""
    summary = run_generate_stage(config, run)
    log.info(
        "generation: %d planned, %d done before, %d generated now", summary.planned, summary.done_before, summary.generated
    )
    if summary.failed:
        log.warning(
            "%d rows failed (their source images are unreadable), e.g. row %d: %s; the other rows are complete",
            len(summary.failed), summary.failed[0].row_id, summary.failed[0].error,
        )
    return summary


_TABLE = (
    Stage("data", run_data_stage, needs=(), makes=("split",)),
    Stage("score", run_score_stage, needs=("split",), makes=("scores",)),
    Stage("prompts", _prompts, needs=("split",), makes=("prompts",)),
    Stage("plan", run_plan_stage, needs=("split",), makes=("plan",)),
    Stage("generate", _generate, needs=("plan",), makes=("synthetic images",)),
    Stage("filter", run_filter_stage, needs=("split", "synthetic images"), makes=("filter decisions",)),
    Stage("train", run_train_stage, needs=("split",), makes=("trained classifiers",)),
    Stage("evaluate", run_evaluate_stage, needs=("split", "trained classifiers"), makes=("results",)),
    Stage("report", run_report_stage, needs=(), makes=("report",)),
)
STAGES: dict[str, Stage] = {stage.name: stage for stage in _TABLE}
"""Every stage, in pipeline order."""

_MADE_BY = {artefact: stage.name for stage in _TABLE for artefact in stage.makes}


def prepare_run(config: DaldaConfig) -> RunDir:
    """Create the run directory and record the resolved config in it."""
    run = RunDir(config.out_dir).ensure()
    write_text_atomic(run.config, config_to_yaml(config))
    return run


def run_stage(name: str, config: DaldaConfig) -> Any:
    run = prepare_run(config)
    started = time.perf_counter()
    result = STAGES[name].run(config, run)
    log.info("stage %s done in %.1f s", name, time.perf_counter() - started)
    return result


def check_needs(config: DaldaConfig, run: RunDir, chosen: list[str]) -> None:
    """Every artefact a chosen stage needs is on disk or made by an earlier chosen stage; else one clear error."""
    made: set[str] = set()
    for name in (name for name in STAGES if name in chosen):
        stage = STAGES[name]
        for artefact in (artefact for artefact in stage.needs if artefact not in made):
            missing = [path for path in ARTEFACT_FILES[artefact](run, config) if not path.exists()]
            if missing:
                raise FileNotFoundError(
                    f"stage {name} needs the {artefact} ({missing[0]} is missing); "
                    f"run `dalda {_MADE_BY[artefact]}` first"
                )
        made.update(stage.makes)


def run_pipeline(config: DaldaConfig, stages: list[str] | None = None) -> RunDir:
    """Run the given stages (by default every stage the config needs) in pipeline order."""
    chosen = stages or default_stages(config)
    unknown = [name for name in chosen if name not in STAGES]
    if unknown:
        raise ValueError(f"unknown stages {unknown}; choose from {list(STAGES)}")
    check_needs(config, RunDir(config.out_dir), chosen)
    for name in STAGES:
        if name in chosen:
            log.info("stage %s", name)
            run_stage(name, config)
    return RunDir(config.out_dir)
