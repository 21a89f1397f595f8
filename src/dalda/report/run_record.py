"""The report's table of what each stage of each run ran with, from the runs' ``provenance.json``.

One row per (run, stage): when it finished, the host, its GPUs, CUDA and cuDNN, the versions of dalda and its
libraries at that moment (not those building the report), the git commit and command line, and every checkpoint
with the commit it resolved to, or "random, built in code". Runs made before the record existed show nothing.
"""

from __future__ import annotations

import html
from pathlib import Path

from dalda.artefacts import ProvenanceRecord, StageProvenance
from dalda.rundir import RunDir

LIBRARIES = ("python", "torch", "diffusers", "transformers", "accelerate")
COLUMNS = ("run", "stage", "finished", "host", "GPUs", "CUDA / cuDNN", "dalda", "libraries", "git", "models", "command")


def stage_records(root: Path) -> dict[str, StageProvenance]:
    """The run's stage records by stage name; empty for a run without (or with an unreadable) record."""
    record = ProvenanceRecord.read_optional(RunDir(root))
    return dict(record.stages) if record else {}


def _cells(run: str, stage: StageProvenance) -> tuple[str, ...]:
    libraries = ", ".join(f"{name} {stage.versions.get(name) or '—'}" for name in LIBRARIES)
    models = "; ".join(f"{model.ident} @ {model.source}" for model in stage.models)
    accelerators = f"{stage.cuda or 'no CUDA'} / {stage.cudnn or '—'}"
    return (
        run, stage.stage, stage.finished, stage.host, ", ".join(stage.gpus) or "none", accelerators,
        stage.versions.get("dalda") or "—", libraries, stage.git_commit or "—", models, " ".join(stage.argv),
    )  # fmt: skip


def run_record_html(roots: list[Path]) -> str:
    """The table as trusted HTML; empty when no run has a record."""
    rows = [
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in _cells(root.resolve().name, stage)) + "</tr>"
        for root in roots
        for stage in stage_records(root).values()
    ]
    if not rows:
        return ""
    head = "".join(f"<th>{name}</th>" for name in COLUMNS)
    return (
        "<h3>Run record: what each stage ran with</h3><table class='run-record'>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        "<p class='note'>From each run's <code>provenance.json</code>, written as each stage finished.</p>"
    )
