"""`dalda experiment`: run every cell of a grid, skipping finished ones and carrying on past failures.

Per cell: skip it when all its ``results/<classifier>.json`` exist and its recorded config is the one the
grid asks for; otherwise copy shared artefacts in (``sharing.py``), run the method's stages, and share what
it made. A failing cell is recorded (message in the summary, traceback in ``<cell>/experiment_error.txt``)
and the next cell runs. At the end: a failure table on stderr, ``summary.json`` and the report, both in
``<out_dir>/experiments/<name>/``. The summary is rewritten after every cell, so an interrupted grid still
says what it did; re-running the grid resumes it.
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

import yaml
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from dalda.artefacts import CellInfo
from dalda.config import DaldaConfig, ModelsConfig
from dalda.experiments.shared_artefacts import SharedStore
from dalda.experiments.spec import Cell, ExperimentSpecError, build_cells, load_spec
from dalda.io import write_json_atomic, write_text_atomic
from dalda.ownership import claim
from dalda.pipeline import run_pipeline
from dalda.report.stage import build_report
from dalda.rundir import RunDir

log = logging.getLogger(__name__)
ERROR_FILE = "experiment_error.txt"
Status = Literal["done", "skipped", "failed"]


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
        return {status: sum(cell.status == status for cell in self.cells) for status in ("done", "skipped", "failed")}

    def write(self) -> None:
        write_json_atomic(self.path, {**asdict(self), "counts": self.counts()})


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

    Not conflicts: ``out_dir`` (the folder is the cell, however its path is spelled) and ``train.classifiers``
    (a grid may add a classifier to finished cells; the cell then runs again and trains all of them).
    """
    if not run.config.is_file():
        return []
    recorded = _flatten(yaml.safe_load(run.config.read_text()) or {})
    wanted = _flatten(config.model_dump(mode="json"))
    keys = (set(recorded) | set(wanted)) - {"out_dir", "train.classifiers"}
    return sorted(key for key in keys if recorded.get(key) != wanted.get(key))


def is_finished(config: DaldaConfig, run: RunDir) -> bool:
    """Every classifier's results file exists (and the recorded config matches; checked by the caller)."""
    return all(run.result_file(classifier).is_file() for classifier in config.train.classifiers)


def _run_cell(cell: Cell, store: SharedStore, summary: ExperimentSummary) -> CellOutcome:
    run = RunDir(cell.config.out_dir)
    where = os.path.relpath(run.root, summary.folder)
    outcome = CellOutcome(cell.dataset, cell.shots, cell.trial, cell.method, where, "done")
    try:
        conflicts = config_conflicts(cell.config, run)
    except (OSError, yaml.YAMLError) as error:
        conflicts = [f"config.yaml unreadable: {error}"]
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
        claim(run.root)
        CellInfo(summary.name, cell.dataset, cell.method, cell.shots, cell.trial).write(run)
        store.fill(cell.dataset, cell.config, run)
        run_pipeline(cell.config, list(cell.stages))
        (run.root / ERROR_FILE).unlink(missing_ok=True)
    except Exception as error:  # one cell's failure must not stop the grid; it is reported at the end
        outcome.status = "failed"
        outcome.error = f"{type(error).__name__}: {error}"
        write_text_atomic(run.root / ERROR_FILE, traceback.format_exc())
        log.error("cell %s failed: %s (traceback in %s)", cell.key, outcome.error, run.root / ERROR_FILE)
    finally:
        if run.root.is_dir():
            store.publish(cell.dataset, cell.config, run)
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


def run_experiment(spec_path: Path, models_profile: str | None = None, out: Path | None = None) -> ExperimentSummary:
    """Run the grid in ``spec_path``; ``models_profile`` sets models.profile (``tiny`` also applies the
    spec's ``tiny`` block); ``out`` replaces the spec's out_dir. Invalid grids raise before any cell runs."""
    profiles = get_args(ModelsConfig.model_fields["profile"].annotation)
    if models_profile is not None and models_profile not in profiles:
        raise ExperimentSpecError(f"--models {models_profile!r} is not a models profile; choose one of {list(profiles)}")
    spec = load_spec(Path(spec_path), models_profile)
    out_dir = Path(out) if out is not None else spec.out_dir
    cells = build_cells(spec, out_dir, models_profile)
    store = SharedStore(out_dir)
    summary = ExperimentSummary(
        name=spec.name,
        spec=str(Path(spec_path).resolve()),
        out_dir=str(out_dir),
        models_profile=models_profile,
        started=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )
    console = Console(stderr=True)
    log.info("experiment %s: %d cells -> %s", spec.name, len(cells), out_dir)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    progress = Progress(*columns, console=console)
    task = progress.add_task(spec.name, total=len(cells))
    for cell in cells:
        # The bar is drawn between cells only: each stage draws its own bars while a cell runs.
        progress.update(task, description=f"{spec.name}: {cell.key}")
        progress.start()
        progress.stop()
        outcome = _run_cell(cell, store, summary)
        summary.cells.append(outcome)
        summary.write()
        progress.advance(task)
        if outcome.status == "skipped":
            log.info("cell %s already finished; skipped", cell.key)
    progress.update(task, description=f"{spec.name}: {summary.counts()}")
    progress.start()
    progress.stop()

    if spec.report:
        try:
            summary.report = str(build_report(summary.folder))
        except Exception as error:  # the runs are done and recorded; a report problem must not hide that
            summary.report_error = f"{type(error).__name__}: {error}"
            log.error("report failed: %s", summary.report_error)
    summary.write()
    if summary.failed:
        console.print(_failure_table(summary))
    return summary
