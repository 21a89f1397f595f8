"""The prompts each class was generated with, per dataset: one table per distinct prompt set.

Read from the prompts artefacts of the first (shots, trial) cell (``dalda.report.cells``): ``prompts.json`` (class
-> sentences) and ``prompts_record.json`` (the source, backend and model that wrote them). Runs of a cell that
share the same prompts (methods reading one shared prompts stage) are listed together above one table. A class
with more than :data:`OPEN_UP_TO` prompts is folded (``<details>``), its first prompt showing.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from typing import Any

from dalda.artefacts import PromptsRecord, PromptTable
from dalda.methods import method_title
from dalda.report.cells import cell_title, showcase_cells
from dalda.report.collect import RunRecord
from dalda.report.groups import dataset_title

OPEN_UP_TO = 3
"""Classes with at most this many prompts show them all; longer lists fold behind their first prompt."""
_HIDDEN_SETTINGS = {"classes"}


def prompt_source(record: RunRecord) -> str:
    """"source llm · backend template · …" from ``prompts_record.json`` (the config when there is no record)."""
    settings: dict[str, Any] = {"source": record.config.prompts.source}
    if record.config.prompts.source == "llm":
        settings["backend"] = record.config.prompts.backend
    status = None
    if record.run.prompts_record.is_file():
        try:
            written = PromptsRecord.read(record.run)
        except ValueError:
            written = None
        if written is not None:
            settings = {**settings, **written.settings}
            status = written.status
    shown = [
        f"{key} {value}"
        for key, value in settings.items()
        if key not in _HIDDEN_SETTINGS and isinstance(value, (str, int, float, bool)) and value != ""
    ]
    if status and status != "complete":
        shown.append(f"record {status}")
    return " · ".join(shown)


def _prompts(record: RunRecord) -> dict[str, list[str]] | None:
    try:
        return PromptTable.read(record.run).prompts
    except (OSError, ValueError):
        return None


def _class_row(name: str, prompts: list[str]) -> str:
    items = "".join(f"<li>{html.escape(str(prompt))}</li>" for prompt in prompts)
    if len(prompts) <= OPEN_UP_TO:
        cell = f"<ol>{items}</ol>"
    else:
        cell = f"<details><summary>{html.escape(str(prompts[0]))} …</summary><ol>{items}</ol></details>"
    return f"<tr><td>{html.escape(name)}</td><td>{len(prompts)}</td><td class='prompts'>{cell}</td></tr>"


def prompt_tables_html(records: Sequence[RunRecord]) -> str | None:
    """The section's HTML (trusted: every value escaped here), or None when no run has ``prompts.json``."""
    parts = []
    for dataset, cell in showcase_cells(records, lambda record: record.run.prompts.is_file()):
        sets: dict[str, tuple[dict[str, list[str]], str, list[str]]] = {}
        for record in cell:
            prompts = _prompts(record)
            if prompts is None:
                continue
            source = prompt_source(record)
            key = json.dumps([prompts, source], sort_keys=True)
            sets.setdefault(key, (prompts, source, []))[2].append(method_title(record.method))
        for prompts, source, methods in sets.values():
            count = sum(len(values) for values in prompts.values())
            parts.append(
                f"<h3>{html.escape(dataset_title(dataset))}, {html.escape(cell_title(cell))}: "
                f"{html.escape(', '.join(methods))}</h3>"
                f"<p class='note'>{len(prompts)} classes, {count} prompts; {html.escape(source)}</p>"
                "<table class='prompt-table'><thead><tr><th>Class</th><th>#</th><th>Prompts</th></tr></thead>"
                f"<tbody>{''.join(_class_row(name, list(values)) for name, values in prompts.items())}</tbody></table>"
            )
    return "".join(parts) or None
