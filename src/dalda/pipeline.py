"""The stages in pipeline order, and which of them a config calls for.

Every stage is a function of (config, run directory): it reads what earlier stages wrote there and writes its
own files, so `run` is simply the chosen stages in order, and any one of them can be re-run, inspected or
resumed alone. What a stage makes and needs comes from the artefact table (``dalda.artefacts.table``). Before
the first stage starts, :func:`run_pipeline` checks that every file a chosen stage needs is on disk or made by
an earlier chosen stage, so a missing input fails at once with the command to run.

The stages a config calls for (:func:`stages_for`) follow its method and its generator: ``score`` only when
something reads the scores (AGS on a generator that takes λ: ``Generator.uses_guidance``), ``prompts`` only when
the generator uses the run's prompts (``Generator.uses_prompts``) and ``prompts.source=llm``. A stage needs an
artefact only when the config calls for the stage that makes it, so ``plan`` needs the scores and the prompts
exactly when it reads them, and a run whose generator uses neither never asks an LLM (or needs its key).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from dalda.artefacts import ARTEFACTS, ARTEFACTS_BY_NAME, HistoryLine
from dalda.chat import key_variables
from dalda.config import DaldaConfig, config_to_yaml
from dalda.data.stage import run_data_stage
from dalda.evaluation.stage import run_evaluate_stage
from dalda.filtering.stage import run_filter_stage
from dalda.generation.stage import GenerationSummary, run_generate_stage
from dalda.generators import GENERATORS
from dalda.guidance import GUIDANCE
from dalda.io import write_text_atomic
from dalda.methods import default_stages as method_stages
from dalda.ownership import changed_fields, claim, history, locked, record, refuse_inside_data, utc_now
from dalda.provenance import record_stage
from dalda.tracking import track_stage
from dalda.redact import redact_argv, remember_secret
from dalda.planning.stage import run_plan_stage
from dalda.prompts.stage import run_prompts_stage
from dalda.report.stage import run_report_stage
from dalda.rundir import RunDir
from dalda.scoring.stage import run_score_stage
from dalda.training.stage import run_train_stage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stage:
    name: str
    run: Callable[[DaldaConfig, RunDir], Any]

    @property
    def makes(self) -> tuple[str, ...]:
        """The artefacts it writes (``dalda.artefacts.ARTEFACTS`` whose ``made_by`` is this stage)."""
        return tuple(artefact.name for artefact in ARTEFACTS if artefact.made_by == self.name)

    def depends_on(self, name: str) -> bool:
        """Whether what it makes depends on the dotted config field ``name`` (``Artefact.config``)."""
        return any(ARTEFACTS_BY_NAME[made].depends_on(name) for made in self.makes)

    def has_outputs(self, run: RunDir, config: DaldaConfig) -> bool:
        """Whether any file it makes (other than the run's own bookkeeping) is on disk."""
        return any(path.exists() for made in self.makes for path in ARTEFACTS_BY_NAME[made].paths(run, config))

    def needs(self, config: DaldaConfig) -> tuple[str, ...]:
        """The artefacts it cannot start without under ``config``: those naming it in ``needed_by`` whose maker
        the config calls for (:func:`stages_for`), less those it only reads when present (:data:`READ_WHEN_PRESENT`)."""
        called = stages_for(config)
        return tuple(
            artefact.name
            for artefact in ARTEFACTS
            if self.name in artefact.needed_by
            and artefact.made_by in called
            and READ_WHEN_PRESENT.get(artefact.name, lambda _: True)(config)
        )


_TABLE = (
    Stage("data", run_data_stage),
    Stage("score", run_score_stage),
    Stage("prompts", run_prompts_stage),
    Stage("plan", run_plan_stage),
    Stage("generate", run_generate_stage),
    Stage("filter", run_filter_stage),
    Stage("train", run_train_stage),
    Stage("evaluate", run_evaluate_stage),
    Stage("report", run_report_stage),
)
STAGES: dict[str, Stage] = {stage.name: stage for stage in _TABLE}
"""Every stage, in pipeline order."""


def uses_scores(config: DaldaConfig) -> bool:
    """Whether the real images are scored: for a generator that takes λ, whose sampler may read the scores (AGS;
    ``LambdaSampler.needs_scores``) and whose λ the report plots against them (every sampler; one cheap pass of
    the scorer). The filter scores the synthetic images itself and never reads them."""
    return GENERATORS.get(config.generator.name).uses_guidance


def needs_scores(config: DaldaConfig) -> bool:
    """Whether the plan cannot be made without the scores: the λ sampler reads them (AGS) and the generator takes
    λ. Other plans record a row's score when the scores are there, and do without."""
    sampler = GUIDANCE.get(config.guidance.strategy)
    return sampler.needs_scores and GENERATORS.get(config.generator.name).uses_guidance


READ_WHEN_PRESENT: dict[str, Callable[[DaldaConfig], bool]] = {"scores": needs_scores}
"""Artefacts the stages that read them need only under some configs (artefact -> when they are needed)."""


def uses_llm_prompts(config: DaldaConfig) -> bool:
    """Whether the plan reads the prompts stage's table: the generator uses prompts and they come from
    ``prompts.source=llm`` (an LLM, an offline backend or ``prompts.prompts_file``); otherwise it takes the base
    prompt."""
    return config.prompts.source == "llm" and GENERATORS.get(config.generator.name).uses_prompts


def stages_for(config: DaldaConfig) -> list[str]:
    """The stages ``dalda run`` runs for ``config``: its method's stages (``dalda.methods.default_stages``:
    ``filter`` when enabled, then ``report``) less ``score`` and ``prompts`` when nothing reads what they make."""
    unused = {"score": not uses_scores(config), "prompts": not uses_llm_prompts(config)}
    return [name for name in method_stages(config) if not unused.get(name, False)]


class RowsFailedError(RuntimeError):
    """Generation finished every row it could, but some rows failed; the command exits non-zero."""


def recorded_config(config: DaldaConfig) -> DaldaConfig:
    """The config as a run stores it: actions (``regenerate``, ``prompts.regenerate``) are not state, so they are
    dropped."""
    stored = config.model_copy(deep=True)
    stored.regenerate = False
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
        record(run.root, HistoryLine(event="stage", stage=name, ended=utc_now(), seconds=round(seconds, 3),
                                     config=recorded_config(config).model_dump(mode="json")))
        record_stage(run, name, config)
        times_run = sum(entry.get("stage") == name for entry in history(run.root) if entry.get("event") == "stage")
        track_stage(config, run, name, seconds, times_run)
    log.info("stage %s done in %.1f s", name, seconds)
    return result


class StaleOutputsError(RuntimeError):
    """A command changes config fields that outputs of stages it does not run depend on, without ``--regenerate``."""


def stale_stages(config: DaldaConfig, run: RunDir, chosen: list[str]) -> list[tuple[str, list[str]]]:
    """Stages before the last chosen one that this command does not run, whose outputs exist and depend on a field
    the command changes (against the run's ``config.yaml``), each with those fields; ``[]`` for a new run."""
    from dalda.configure import load_config  # the registries: only for a run that has a config

    if not run.config.is_file():
        return []
    try:
        before = load_config(run.config, []).model_dump(mode="json")
    except ValueError as error:  # an unreadable config.yaml: the command's own load names it
        log.warning("WARNING: cannot compare with %s (%s); stage outputs are not checked against it", run.config, error)
        return []
    changed = changed_fields(before, recorded_config(config).model_dump(mode="json"))
    last = max(list(STAGES).index(name) for name in chosen)
    stale = []
    for name in list(STAGES)[:last]:
        fields = [field for field in changed if STAGES[name].depends_on(field)]
        if name not in chosen and fields and STAGES[name].has_outputs(run, config):
            stale.append((name, fields))
    return stale


def guard_earlier_stages(config: DaldaConfig, run: RunDir, chosen: list[str]) -> list[str]:
    """The stages to run: ``chosen``, or, when the command changes fields that earlier stages' existing outputs
    depend on, a refusal naming them; with ``regenerate``, ``chosen`` plus those stages and every stage the config
    calls for between them (their outputs are remade, with a warning)."""
    stale = stale_stages(config, run, chosen)
    if not stale:
        return chosen
    name, fields = stale[0]
    if not config.regenerate:
        raise StaleOutputsError(
            f"this command changes {', '.join(fields)}, which the {name} stage's existing outputs in {run.root} "
            f"depend on; rerun with --regenerate to remake {name} and what follows, or drop the change "
            "(another --out keeps both)"
        )
    order = list(STAGES)
    first, last = order.index(name), max(order.index(chosen_name) for chosen_name in chosen)
    called = set(stages_for(config)) | set(chosen) | {stage for stage, _ in stale}
    widened = [stage for stage in order[first : last + 1] if stage in called]
    log.warning(
        "WARNING: --regenerate: %s changed, so %s's outputs are remade; running %s",
        ", ".join(fields), name, ", ".join(widened),
    )  # fmt: skip
    return widened


def check_needs(config: DaldaConfig, run: RunDir, chosen: list[str]) -> None:
    """Every artefact a chosen stage needs is on disk or made by an earlier chosen stage; else one clear error."""
    made: set[str] = set()
    for name in (name for name in STAGES if name in chosen):
        stage = STAGES[name]
        for artefact in (ARTEFACTS_BY_NAME[needed] for needed in stage.needs(config) if needed not in made):
            missing = [path for path in artefact.paths(run, config) if not path.exists()]
            if missing:
                raise FileNotFoundError(
                    f"stage {name} needs the {artefact.name} ({missing[0]} is missing); "
                    f"run `dalda {artefact.made_by}` first"
                )
        made.update(stage.makes)


def run_pipeline(
    config: DaldaConfig, stages: list[str] | None = None, overrides: list[str] | None = None
) -> RunDir:
    """Run the given stages (by default every stage the config calls for: :func:`stages_for`) in pipeline order.

    The run directory is claimed and locked for the whole command; the command (argv, ``overrides``, resolved
    config, times, status) is appended to ``history.jsonl``; ``config.yaml`` is written when the run has none yet
    and replaced only when every stage succeeded, so a refused or failed command never changes the run's config.
    """
    chosen = stages or stages_for(config)
    unknown = [name for name in chosen if name not in STAGES]
    if unknown:
        raise ValueError(f"unknown stages {unknown}; choose from {list(STAGES)}")
    refuse_inside_data(config.out_dir, config.data.root, "out_dir")
    run = claim(config.out_dir)
    with locked(run.root, "dalda " + " ".join(chosen)):
        entry = HistoryLine(
            event="command", argv=redact_argv(sys.argv[1:]), stages=[n for n in STAGES if n in chosen],
            overrides=redact_argv(overrides or []), started=utc_now(), pid=os.getpid(),
            config=recorded_config(config).model_dump(mode="json"),
        )  # fmt: skip
        try:
            chosen = guard_earlier_stages(config, run, chosen)
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
            record(run.root, replace(entry, ended=utc_now(), status="failed", error=f"{type(error).__name__}: {error}"))
            raise
        write_text_atomic(run.config, config_to_yaml(recorded_config(config)))
        failed = [row for result in results if isinstance(result, GenerationSummary) for row in result.failed]
        record(run.root, replace(entry, ended=utc_now(), status="ok", failed_rows=len(failed)))
    if failed:
        raise RowsFailedError(
            f"{len(failed)} synthetic rows failed (their source images are unreadable), e.g. row {failed[0].row_id}: "
            f"{failed[0].error}; every other stage finished: fix or remove those images and run `dalda generate` again"
        )
    return run
