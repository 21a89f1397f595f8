"""The report's "flagged prompts" table: the sentences the prompt validator flagged in each run, and what was
done with them (``prompts.validation``; ``dalda.prompts.validation``).

Read from each run's ``prompts_record.json`` (``dalda.artefacts.PromptsRecord``), never recomputed. A run
with no record, or a record older than the flag list, adds nothing; when no run has a flagged sentence the
table is left out.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from dalda.artefacts import PromptsRecord
from dalda.report.collect import RunRecord
from dalda.report.tables import Column, Table

MAX_ROWS = 200
"""Rows shown at most; the counts in the notes always cover every flagged sentence."""


def flagged_prompts_table(records: Sequence[RunRecord], base: Path, key: str) -> Table | None:
    """One row per flagged sentence (run, class, sentence, reason, action), with the counts per action."""
    rows: list[list[str | int | float | None]] = []
    actions: Counter[str] = Counter()
    modes: Counter[str] = Counter()
    for record in records:
        if not record.run.prompts_record.is_file():
            continue
        try:
            prompts = PromptsRecord.read(record.run)
        except (OSError, ValueError):
            continue
        modes[prompts.validation] += 1
        where = os.path.relpath(record.root, base)
        for flag in prompts.flagged:
            actions[str(flag.get("action"))] += 1
            rows.append([
                where, str(flag.get("class")), flag.get("round"), str(flag.get("sentence")),
                str(flag.get("reason")), str(flag.get("action")),
            ])  # fmt: skip
    if not rows:
        return None
    counts = ", ".join(f"{count} {action}" for action, count in sorted(actions.items()))
    used = ", ".join(f"{mode} ({count} run(s))" for mode, count in sorted(modes.items()))
    notes = [
        f"{len(rows)} sentence(s) flagged by the prompt validator: {counts}. prompts.validation: {used}. "
        "'asked again': the LLM was asked for another sentence (repair); 'kept': the sentence was used (warn).",
        "The validator is a word heuristic (dalda.chat.request); each run's prompts_record.json lists the same rows.",
    ]
    if len(rows) > MAX_ROWS:
        notes.append(f"Only the first {MAX_ROWS} rows are shown.")
    columns = [Column(name) for name in ("Run", "Class", "Round", "Sentence", "Reason", "Action")]
    return Table(key, "Flagged prompts", columns, rows[:MAX_ROWS], notes)
