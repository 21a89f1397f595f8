"""`dalda experiment`: run every cell of a grid, skipping finished ones and carrying on past failures.

Per cell: skip it when all its ``results/<classifier>.json`` exist and its recorded config is the one the
grid asks for; otherwise take its shared artefacts (``shared_artefacts.py``: copied from the store, or made
under the artefact's lock and published), run the method's stages, and share what it made. A failing cell is
recorded (message in the summary, traceback in ``<cell>/experiment_error.txt``) and the next cell runs. At the
end: a failure table on stderr, ``summary.json`` and the report, both in ``<out_dir>/experiments/<name>/``.

Several processes may run one grid at once (``--shard i/n``, Slurm array tasks, a re-run while a job still
runs): a process holds ``<cell>/.cell.lock`` while it runs a cell and skips a cell whose lock another live
process holds; ``summary.json`` is merged under its own lock after every cell (one entry per cell, the latest
outcome); the report is written by whichever process finds, after its last cell, that no cell of the grid is
pending or running. A killed process leaves its cell unfinished and its locks free, so re-running the same
command finishes the grid.
"""

from __future__ import annotations

import logging
import os
import time
import traceback
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal, get_args

from rich.console import Console
from rich.table import Table

from dalda.artefacts import SHARED_ARTEFACTS, Artefact, CellInfo, PlanRow
from dalda.config import ConfigError, DaldaConfig, ModelsConfig
from dalda.configure import load_config
from dalda.experiments.shards import shard_of
from dalda.experiments.shared_artefacts import SharedStore
from dalda.experiments.spec import Cell, ExperimentSpec, ExperimentSpecError, build_cells, load_spec
from dalda.generators import GENERATORS
from dalda.io import file_lock, lock_is_held, read_json, write_json_atomic, write_text_atomic
from dalda.ownership import ForeignFolderError, claim
from dalda.pipeline import run_pipeline
from dalda.progress import progress_bar
from dalda.report.stage import build_report
from dalda.rundir import RunDir
from dalda.training.stage import train_real_only_references

log = logging.getLogger(__name__)
ERROR_FILE = "experiment_error.txt"
CELL_LOCK = ".cell.lock"
Status = Literal["done", "skipped", "failed", "running"]
"""An outcome; ``running``: another live process holds the cell's lock, so this one left it alone."""
CellState = Literal["done", "running", "failed", "pending"]


@dataclass
class CellOutcome:
    dataset: str
    shots: int
    trial: int
    method: str
    run_dir: str
    """Relative to the summary's folder, so an experiment folder can be moved as a whole."""
    status: Status
    error: str | None = None
    duration_s: float = 0.0


@dataclass
class ExperimentSummary:
    name: str
    spec: str
    out_dir: str
    models_profile: str | None
    started: str
    cells: list[CellOutcome] = field(default_factory=list)
    report: str | None = None
    report_error: str | None = None

    @property
    def folder(self) -> Path:
        return Path(self.out_dir) / "experiments" / self.name

    @property
    def path(self) -> Path:
        return self.folder / "summary.json"

    @property
    def failed(self) -> list[CellOutcome]:
        return [cell for cell in self.cells if cell.status == "failed"]

    def counts(self) -> dict[str, int]:
        statuses = ("done", "skipped", "failed", "running")
        return {status: sum(cell.status == status for cell in self.cells) for status in statuses}

    def write(self) -> None:
        write_json_atomic(self.path, {**asdict(self), "counts": self.counts()})

    def merge_write(self, order: list[str]) -> None:
        """Write the summary with the other processes' outcomes kept: one entry per cell (``order``: keys in
        grid order), this process's outcome where it has one."""
        with file_lock(self.path.with_name(self.path.name + ".lock")):
            previous: dict[str, Any] = {}
            if self.path.is_file():
                try:
                    previous = read_json(self.path)
                except ValueError:
                    log.warning("%s is unreadable; rewriting it from this process's cells", self.path)
            recorded = previous.get("cells", [])
            by_key = {_outcome_key(item): CellOutcome(**item) for item in recorded}
            by_key.update({_outcome_key(asdict(cell)): cell for cell in self.cells})
            rank = {key: i for i, key in enumerate(order)}
            merged = sorted(by_key.values(), key=lambda cell: rank.get(_outcome_key(asdict(cell)), len(rank)))
            payload = {**asdict(self), "cells": [asdict(cell) for cell in merged]}
            if self.report is None and self.report_error is None:  # the process that wrote the report says so
                payload["report"], payload["report_error"] = previous.get("report"), previous.get("report_error")
            counts = {status: sum(cell.status == status for cell in merged) for status in self.counts()}
            write_json_atomic(self.path, {**payload, "counts": counts})


def _outcome_key(cell: dict[str, Any]) -> str:
    return f"{cell['dataset']}/{cell['shots']}shot/trial{cell['trial']}/{cell['method']}"


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def config_conflicts(config: DaldaConfig, run: RunDir) -> list[str]:
    """Fields where the run's recorded config differs from ``config``.

    The record is read as dalda reads any config (``dalda.configure``): old spellings are moved to where they
    live now (a cell made before the generator owned its settings is the same cell), and a field the record
    lacks takes its default (the run was made by a dalda from before that field existed, which behaved as the
    default does). Not conflicts: ``out_dir`` (the folder is the cell, however its path is spelled) and
    ``train.classifiers`` (a grid may add a classifier to finished cells; the cell then runs again and trains all
    of them). A record that no longer loads is one conflict that says why.
    """
    if not run.config.is_file():
        return []
    try:
        recorded = _flatten(load_config(run.config, announce=False).model_dump(mode="json"))
    except ConfigError as error:
        return [f"config.yaml unreadable: {error}"]
    wanted = _flatten(config.model_dump(mode="json"))
    keys = (set(recorded) | set(wanted)) - {"out_dir", "train.classifiers"}
    return sorted(key for key in keys if recorded.get(key) != wanted.get(key))


def is_finished(config: DaldaConfig, run: RunDir) -> bool:
    """Every classifier's results file exists (and the recorded config matches; checked by the caller)."""
    return all(run.result_file(classifier).is_file() for classifier in config.train.classifiers)


def cell_state(cell: Cell) -> CellState:
    """done (results recorded under this config), running (a live process holds its lock), failed (its last
    run failed, or its folder holds another config's run) or pending."""
    run = RunDir(cell.config.out_dir)
    if lock_is_held(run.root / CELL_LOCK):
        return "running"
    if config_conflicts(cell.config, run) or (run.root / ERROR_FILE).is_file():
        return "failed"
    return "done" if is_finished(cell.config, run) else "pending"


def _make(artefact: Artefact, cell: Cell, store: SharedStore, run: RunDir) -> None:
    """Run what makes ``artefact`` in this cell (the caller holds the artefact's lock). The generate stage's
    share is only its generator's one-off preparation (from the plan), not the images; the train stage's only
    its real-only references, not the cell's own classifiers."""
    if artefact.made_by == "data":
        with file_lock(store.root / "data" / f"{cell.config.data.dataset}.lock"):  # one download or demo draw
            run_pipeline(cell.config, ["data"])
    elif artefact.made_by == "generate":
        run_pipeline(cell.config, ["plan"])
        generator = GENERATORS.get(cell.config.generator.name)
        generator.preparation(cell.config, run, PlanRow.read_all(run)).make_pending(cell.config.models)
    elif artefact.made_by == "train":
        train_real_only_references(cell.config, run)
    else:
        run_pipeline(cell.config, [artefact.made_by])


def _take_shared(cell: Cell, store: SharedStore, run: RunDir) -> None:
    """Every shared artefact the cell needs: copied from the store, else made under its lock and published."""
    store.link_features(cell.dataset, run)
    for artefact in SHARED_ARTEFACTS:
        if artefact.made_by not in cell.stages or not artefact.wanted_by(cell.config):
            continue
        with store.lock(artefact, cell.dataset, cell.config):
            if store.fill_one(artefact, cell.dataset, cell.config, run):
                log.info("cell %s: %s taken from %s", cell.key, artefact.name, store.root)
                continue
            _make(artefact, cell, store, run)
            if store.publish_one(artefact, cell.dataset, cell.config, run, cell.key):
                log.info("cell %s: made and shared %s", cell.key, artefact.name)


def _run_cell(cell: Cell, store: SharedStore, summary: ExperimentSummary) -> CellOutcome:
    run = RunDir(cell.config.out_dir)
    where = os.path.relpath(run.root, summary.folder)
    outcome = CellOutcome(cell.dataset, cell.shots, cell.trial, cell.method, where, "done")
    if lock_is_held(run.root / CELL_LOCK):
        outcome.status = "running"
        return outcome
    try:
        claim(run.root)  # before the cell lock file: a folder dalda did not make is refused, never written
    except ForeignFolderError as error:
        outcome.status, outcome.error = "failed", f"{type(error).__name__}: {error}"
        return outcome
    lock = file_lock(run.root / CELL_LOCK)
    try:
        lock.acquire(timeout=0)
    except TimeoutError:  # filelock.Timeout is a TimeoutError: another process took the cell just now
        outcome.status = "running"
        return outcome
    try:
        return _run_locked_cell(cell, store, summary, run, outcome)
    finally:
        lock.release()


def _run_locked_cell(
    cell: Cell, store: SharedStore, summary: ExperimentSummary, run: RunDir, outcome: CellOutcome
) -> CellOutcome:
    conflicts = config_conflicts(cell.config, run)
    if conflicts:
        outcome.status = "failed"
        outcome.error = (
            f"{run.root} holds a run made with another config (differs in {', '.join(conflicts[:6])}"
            f"{', ...' if len(conflicts) > 6 else ''}); delete that folder or give the grid another out_dir"
        )
        return outcome
    if is_finished(cell.config, run):
        outcome.status = "skipped"
        return outcome
    started = time.perf_counter()
    try:
        CellInfo(summary.name, cell.dataset, cell.method, cell.shots, cell.trial).write(run)
        _take_shared(cell, store, run)
        run_pipeline(cell.config, list(cell.stages))
        (run.root / ERROR_FILE).unlink(missing_ok=True)
    except Exception as error:  # one cell's failure must not stop the grid; it is reported at the end
        outcome.status = "failed"
        outcome.error = f"{type(error).__name__}: {error}"
        write_text_atomic(run.root / ERROR_FILE, traceback.format_exc())
        log.error("cell %s failed: %s (traceback in %s)", cell.key, outcome.error, run.root / ERROR_FILE)
    finally:
        if run.root.is_dir():
            store.publish(cell.dataset, cell.config, run, cell.key)
    outcome.duration_s = round(time.perf_counter() - started, 2)
    return outcome


def _failure_table(summary: ExperimentSummary) -> Table:
    table = Table(title=f"{len(summary.failed)} failed cell(s) in experiment {summary.name}", title_style="bold red")
    for column in ("cell", "error", "seconds"):
        table.add_column(column, overflow="fold")
    for cell in summary.failed:
        key = f"{cell.dataset}/{cell.shots}shot/trial{cell.trial}/{cell.method}"
        table.add_row(key, cell.error or "", f"{cell.duration_s:.1f}")
    return table


def load_grid(
    spec_path: Path, models_profile: str | None = None, out: Path | None = None
) -> tuple[ExperimentSpec, Path, list[Cell]]:
    """The grid's spec, out_dir (``out`` replaces the spec's) and every cell, validated (nothing runs)."""
    profiles = get_args(ModelsConfig.model_fields["profile"].annotation)
    if models_profile is not None and models_profile not in profiles:
        raise ExperimentSpecError(f"--models {models_profile!r} is not a models profile; choose one of {list(profiles)}")
    spec = load_spec(Path(spec_path), models_profile)
    out_dir = Path(out) if out is not None else spec.out_dir
    return spec, out_dir, build_cells(spec, out_dir, models_profile)


def grid_states(cells: list[Cell]) -> dict[str, CellState]:
    """Each cell's :func:`cell_state`, by cell key, in grid order."""
    return {cell.key: cell_state(cell) for cell in cells}


def run_experiment(
    spec_path: Path,
    models_profile: str | None = None,
    out: Path | None = None,
    shard: tuple[int, int] | None = None,
    only: list[str] | None = None,
) -> ExperimentSummary:
    """Run the grid in ``spec_path``; ``models_profile`` sets models.profile (``tiny`` also applies the
    spec's ``tiny`` block); ``out`` replaces the spec's out_dir; ``shard`` (i, n) runs shard i of n
    (``shards.py``); ``only`` runs just the cells with these keys. Invalid grids raise before any cell runs."""
    spec, out_dir, grid = load_grid(Path(spec_path), models_profile, out)
    cells = shard_of(grid, shard) if shard is not None else grid
    if only is not None:
        unknown = sorted(set(only) - {cell.key for cell in grid})
        if unknown:
            raise ExperimentSpecError(f"cells {unknown} are not in the grid {spec_path}")
        cells = [cell for cell in cells if cell.key in set(only)]
    store = SharedStore(out_dir)
    summary = ExperimentSummary(
        name=spec.name,
        spec=str(Path(spec_path).resolve()),
        out_dir=str(out_dir),
        models_profile=models_profile,
        started=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )
    order = [cell.key for cell in grid]
    part = f" (shard {shard[0]}/{shard[1]}: {len(cells)} of {len(grid)} cells)" if shard is not None else ""
    log.info("experiment %s: %d cells%s -> %s", spec.name, len(cells), part, out_dir)
    # On a terminal each stage of a cell draws its own bar and rich shows one live bar at a time, so the grid's
    # progress is the log line per cell there; elsewhere it is the plain progress path, with its heartbeat.
    console = Console(stderr=True)
    plain = not console.is_terminal
    with progress_bar(f"experiment {spec.name}", len(cells), unit="cell", enabled=plain) as advance:
        for number, cell in enumerate(cells, start=1):
            log.info("experiment %s: cell %d/%d %s", spec.name, number, len(cells), cell.key)
            outcome = _run_cell(cell, store, summary)
            summary.cells.append(outcome)
            summary.merge_write(order)
            advance(1)
            if outcome.status == "skipped":
                log.info("cell %s already finished; skipped", cell.key)
            elif outcome.status == "running":
                log.info("cell %s is running in another process; left to it", cell.key)
    log.info("experiment %s: %s", spec.name, summary.counts())

    unfinished = [key for key, state in grid_states(grid).items() if state in ("pending", "running")]
    if spec.report and not unfinished:
        with file_lock(summary.folder / "report.lock"):
            try:
                summary.report = str(build_report(summary.folder))
            except Exception as error:  # the runs are done and recorded; a report problem must not hide that
                summary.report_error = f"{type(error).__name__}: {error}"
                log.error("report failed: %s", summary.report_error)
    elif spec.report:
        log.info("report left to the last process: %d cell(s) of the grid still pending or running", len(unfinished))
    summary.merge_write(order)
    if summary.failed:
        console.print(_failure_table(summary))
    return summary
