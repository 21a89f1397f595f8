"""The stages in pipeline order, each declaring what it reads and writes in the run directory.

Every stage is a function of (config, run directory): it reads what earlier stages wrote there and writes its
own files, so `run` is simply the chosen stages in order, and any one of them can be re-run, inspected or
resumed alone. Before the first stage starts, :func:`run_pipeline` checks that every file a chosen stage
needs is on disk or made by an earlier chosen stage, so a missing input fails at once with the command to run.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dalda.chat import key_variables
from dalda.config import DaldaConfig, config_to_yaml
from dalda.data.stage import run_data_stage
from dalda.evaluation.stage import run_evaluate_stage
from dalda.filtering.stage import run_filter_stage
from dalda.generation.stage import GenerationSummary, run_generate_stage
from dalda.io import write_text_atomic
from dalda.methods import default_stages
from dalda.ownership import claim, locked, record, utc_now
from dalda.redact import remember_secret
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


_TABLE = (
    Stage("data", run_data_stage, needs=(), makes=("split",)),
    Stage("score", run_score_stage, needs=("split",), makes=("scores",)),
    Stage("prompts", run_prompts_stage, needs=("split",), makes=("prompts",)),
    Stage("plan", run_plan_stage, needs=("split",), makes=("plan",)),
    Stage("generate", run_generate_stage, needs=("plan",), makes=("synthetic images",)),
    Stage("filter", run_filter_stage, needs=("split", "synthetic images"), makes=("filter decisions",)),
    Stage("train", run_train_stage, needs=("split",), makes=("trained classifiers",)),
    Stage("evaluate", run_evaluate_stage, needs=("split", "trained classifiers"), makes=("results",)),
    Stage("report", run_report_stage, needs=(), makes=("report",)),
)
STAGES: dict[str, Stage] = {stage.name: stage for stage in _TABLE}
"""Every stage, in pipeline order."""

_MADE_BY = {artefact: stage.name for stage in _TABLE for artefact in stage.makes}


class RowsFailedError(RuntimeError):
    """Generation finished every row it could, but some rows failed; the command exits non-zero."""


def recorded_config(config: DaldaConfig) -> DaldaConfig:
    """The config as a run stores it: actions (``prompts.regenerate``) are not state, so they are dropped."""
    stored = config.model_copy(deep=True)
    stored.prompts.regenerate = False
    return stored


def prepare_run(config: DaldaConfig) -> RunDir:
    """Claim the run directory (refusing a folder that is not dalda's) and record the resolved config in it."""
    run = claim(config.out_dir)
    write_text_atomic(run.config, config_to_yaml(recorded_config(config)))
    return run


def run_stage(name: str, config: DaldaConfig) -> Any:
    """Run one stage on a claimed, locked run directory; the history gets a line when it finishes."""
    run = claim(config.out_dir)
    with locked(run.root, f"dalda {name}"):
        started = time.perf_counter()
        result = STAGES[name].run(config, run)
        seconds = time.perf_counter() - started
        record(run.root, {"event": "stage", "stage": name, "ended": utc_now(), "seconds": round(seconds, 3),
                          "config": recorded_config(config).model_dump(mode="json")})
    log.info("stage %s done in %.1f s", name, seconds)
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


def run_pipeline(
    config: DaldaConfig, stages: list[str] | None = None, overrides: list[str] | None = None
) -> RunDir:
    """Run the given stages (by default every stage the config needs) in pipeline order.

    The run directory is claimed and locked for the whole command; the command (argv, ``overrides``, resolved
    config, times, status) is appended to ``history.jsonl``; ``config.yaml`` is written when the run has none yet
    and replaced only when every stage succeeded, so a refused or failed command never changes the run's config.
    """
    chosen = stages or default_stages(config)
    unknown = [name for name in chosen if name not in STAGES]
    if unknown:
        raise ValueError(f"unknown stages {unknown}; choose from {list(STAGES)}")
    run = claim(config.out_dir)
    with locked(run.root, "dalda " + " ".join(chosen)):
        entry: dict[str, Any] = {
            "event": "command", "argv": sys.argv[1:], "stages": [n for n in STAGES if n in chosen],
            "overrides": list(overrides or []), "started": utc_now(), "pid": os.getpid(),
            "config": recorded_config(config).model_dump(mode="json"),
        }
        try:
            check_needs(config, run, chosen)
            for variable in key_variables(config):  # masked in every file any stage writes
                remember_secret(os.environ.get(variable))
            if not run.config.exists():
                write_text_atomic(run.config, config_to_yaml(recorded_config(config)))
            results = []
            for name in STAGES:
                if name in chosen:
                    log.info("stage %s", name)
                    results.append(run_stage(name, config))
        except BaseException as error:
            record(run.root, {**entry, "ended": utc_now(), "status": "failed", "error": f"{type(error).__name__}: {error}"})
            raise
        write_text_atomic(run.config, config_to_yaml(recorded_config(config)))
        failed = [row for result in results if isinstance(result, GenerationSummary) for row in result.failed]
        record(run.root, {**entry, "ended": utc_now(), "status": "ok", "failed_rows": len(failed)})
    if failed:
        raise RowsFailedError(
            f"{len(failed)} synthetic rows failed (their source images are unreadable), e.g. row {failed[0].row_id}: "
            f"{failed[0].error}; every other stage finished: fix or remove those images and run `dalda generate` again"
        )
    return run
