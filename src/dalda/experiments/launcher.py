"""`dalda experiment GRID --launcher slurm`: submit the grid's unfinished cells as one Slurm job array.

Submission goes through ``submitit`` (the ``cluster`` extra: ``pip install 'dalda[cluster]'``). Each array
task runs one cell with :func:`run_cells`, which is the ordinary runner restricted to that cell, so a task
takes the shared artefacts under their locks, records its outcome in the merged ``summary.json``, and the
task that finishes the grid's last cell writes the report. Cells that are done, or running under a live
process, are not submitted: re-running the command after a crash, a time-out or a fix submits only what is
left. Where each job writes its output is printed and recorded, one JSON line per cell, in
``<out_dir>/experiments/<name>/slurm/submissions.jsonl``; submitit's own files (pickled task, stdout, stderr)
are in ``slurm/<job id>/``.

Requests come from the grid file's ``slurm:`` block (``spec.py``), then the flags. ``cluster="local"`` runs
the same array with submitit's local executor (subprocesses on this machine, no Slurm), which is how the tests
run it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from dalda.experiments.runner import ExperimentSummary, grid_states, load_grid, run_experiment
from dalda.experiments.spec import SlurmBlock
from dalda.io import append_jsonl

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Submitted:
    cell: str
    job_id: str
    stdout: Path
    stderr: Path
    job: Any
    """The submitit job (``.result()`` waits for it and returns the task's outcome counts)."""


def run_cells(spec_path: str, models_profile: str | None, out: str | None, keys: list[str]) -> dict[str, int]:
    """One array task: run these cells of the grid (and the report, if they were the grid's last)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    summary = run_experiment(Path(spec_path), models_profile, Path(out) if out else None, only=keys)
    if summary.failed:
        raise RuntimeError(f"cell(s) failed: {[cell.error for cell in summary.failed]}")
    return summary.counts()


def _executor(submitit: Any, folder: Path, block: SlurmBlock, cluster: str, name: str) -> Any:
    """submitit's Slurm (or local) executor with the block's requests, each in the executor's own parameter
    names (``SlurmExecutor``: sbatch's; ``LocalExecutor`` ignores partition, memory and sbatch options)."""
    if cluster == "local":
        executor = submitit.LocalExecutor(folder=folder / "%j")
        executor.update_parameters(timeout_min=block.time_min, gpus_per_node=block.gpus_per_task, tasks_per_node=1)
        return executor
    executor = submitit.SlurmExecutor(folder=folder / "%j")
    parameters: dict[str, Any] = {
        "job_name": f"dalda-{name}",
        "time": block.time_min,
        "nodes": 1,
        "ntasks_per_node": 1,
        "cpus_per_task": block.cpus_per_task,
        "gpus_per_node": block.gpus_per_task,
    }
    optional = {
        "partition": block.partition,
        "mem": f"{int(block.mem_gb * 1024)}MB" if block.mem_gb else None,
        "array_parallelism": block.array_parallelism,
        "additional_parameters": dict(block.sbatch) or None,
        "setup": list(block.setup) or None,
    }
    executor.update_parameters(**parameters, **{key: value for key, value in optional.items() if value is not None})
    return executor


def submit_grid(
    spec_path: Path,
    models_profile: str | None = None,
    out: Path | None = None,
    cluster: str = "slurm",
    overrides: dict[str, Any] | None = None,
) -> list[Submitted]:
    """Submit every cell of the grid that is pending or failed; ``overrides`` replace ``slurm:`` values."""
    try:
        import submitit
    except ImportError:
        raise RuntimeError("--launcher slurm needs submitit: pip install 'dalda[cluster]'") from None
    spec, out_dir, grid = load_grid(Path(spec_path), models_profile, out)
    block = spec.slurm.model_copy(update={k: v for k, v in (overrides or {}).items() if v is not None})
    block = SlurmBlock.model_validate(block.model_dump())
    states = grid_states(grid)
    todo = [cell for cell in grid if states[cell.key] in ("pending", "failed")]
    folder = ExperimentSummary(spec.name, "", str(out_dir), models_profile, "").folder / "slurm"
    if not todo:
        log.info("nothing to submit: every cell of %s is done or running", spec.name)
        return []
    executor = _executor(submitit, folder, block, cluster, spec.name)
    spec_arg, out_arg = str(Path(spec_path).resolve()), str(Path(out_dir).resolve())
    jobs = executor.map_array(
        run_cells,
        [spec_arg] * len(todo),
        [models_profile] * len(todo),
        [out_arg] * len(todo),
        [[cell.key] for cell in todo],
    )
    submitted = []
    when = datetime.now(timezone.utc).isoformat(timespec="seconds")
    for cell, job in zip(todo, jobs):
        entry = Submitted(cell.key, str(job.job_id), Path(job.paths.stdout), Path(job.paths.stderr), job)
        append_jsonl(
            folder / "submissions.jsonl",
            {"cell": cell.key, "job_id": entry.job_id, "stdout": str(entry.stdout), "stderr": str(entry.stderr),
             "cluster": cluster, "submitted": when},
        )  # fmt: skip
        submitted.append(entry)
    return submitted
