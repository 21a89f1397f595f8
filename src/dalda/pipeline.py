"""The stages in pipeline order, each a function of (config, run directory).

Every stage reads what earlier stages wrote into the run directory and writes its own files there, so `run`
is simply the stages in order, and any one of them can be re-run, inspected or resumed alone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from dalda.config import DaldaConfig, config_to_yaml
from dalda.io import write_text_atomic
from dalda.methods import default_stages
from dalda.rundir import RunDir

log = logging.getLogger(__name__)


def _data(config: DaldaConfig, run: RunDir) -> Any:
    from dalda.data.stage import run_data_stage

    return run_data_stage(config, run)


def _score(config: DaldaConfig, run: RunDir) -> Any:
    from dalda.scoring.stage import run_score_stage

    return run_score_stage(config, run)


def _prompts(config: DaldaConfig, run: RunDir) -> Any:
    from dalda.data.stage import run_data_stage
    from dalda.prompts.stage import run_prompts_stage

    return run_prompts_stage(config, run_data_stage(config, run).classes, run)


def _plan(config: DaldaConfig, run: RunDir) -> Any:
    from dalda.planning.stage import run_plan_stage

    return run_plan_stage(config, run)


def _generate(config: DaldaConfig, run: RunDir) -> Any:
    from dalda.generation.stage import run_generate_stage

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


def _train(config: DaldaConfig, run: RunDir) -> Any:
    from dalda.training.stage import run_train_stage

    return run_train_stage(config, run)


def _evaluate(config: DaldaConfig, run: RunDir) -> Any:
    from dalda.evaluation.stage import run_evaluate_stage

    return run_evaluate_stage(config, run)


def _report(config: DaldaConfig, run: RunDir) -> Any:
    from dalda.report.stage import run_report_stage

    return run_report_stage(config, run)


STAGES: dict[str, Callable[[DaldaConfig, RunDir], Any]] = {
    "data": _data,
    "score": _score,
    "prompts": _prompts,
    "plan": _plan,
    "generate": _generate,
    "train": _train,
    "evaluate": _evaluate,
    "report": _report,
}


def prepare_run(config: DaldaConfig) -> RunDir:
    """Create the run directory and record the resolved config in it."""
    run = RunDir(config.out_dir).ensure()
    write_text_atomic(run.config, config_to_yaml(config))
    return run


def run_stage(name: str, config: DaldaConfig) -> Any:
    run = prepare_run(config)
    started = time.perf_counter()
    result = STAGES[name](config, run)
    log.info("stage %s done in %.1f s", name, time.perf_counter() - started)
    return result


def run_pipeline(config: DaldaConfig, stages: list[str] | None = None) -> RunDir:
    """Run the given stages (by default every stage the config needs) in pipeline order."""
    chosen = stages or default_stages(config)
    unknown = [name for name in chosen if name not in STAGES]
    if unknown:
        raise ValueError(f"unknown stages {unknown}; choose from {list(STAGES)}")
    for name in STAGES:
        if name in chosen:
            log.info("stage %s", name)
            run_stage(name, config)
    return RunDir(config.out_dir)
