"""Wall time and throughput per stage, for the report's header: how long each stage took and at what rate.

The times come from the runs' ``history.jsonl`` (``dalda.ownership``: one ``stage`` entry per finished stage),
summed over every attempt, so a generation resumed three times counts all three; the counts are what the stage
leaves on disk (scores, prompts, plan rows, synthetic images, filter decisions), so ``items / seconds`` is the
rate over the whole run whatever was resumed. Stages without a natural unit (data, train, evaluate) show their
time only. In an experiment, cells share their split, scores and prompts (``dalda.experiments``): a shared stage
is timed where it ran and its items are counted once per cell, so its rate is an upper bound there.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

from dalda.io import read_json, read_jsonl
from dalda.ownership import history
from dalda.report.collect import RunRecord
from dalda.rundir import RunDir


def _lines(path: Path) -> int:
    return len(read_jsonl(path)) if path.is_file() else 0


def _prompts(run: RunDir) -> int:
    return sum(len(prompts) for prompts in read_json(run.prompts).values()) if run.prompts.is_file() else 0


ITEMS: dict[str, tuple[str, Callable[[RunDir], int]]] = {
    "score": ("real images scored", lambda run: _lines(run.scores)),
    "prompts": ("prompts", _prompts),
    "plan": ("rows planned", lambda run: _lines(run.plan)),
    "generate": ("synthetic images", lambda run: _lines(run.manifest)),
    "filter": ("images judged", lambda run: _lines(run.filter_decisions)),
}
"""Stage -> (unit, count on disk) for the stages whose work is counted in items."""


def stage_times(records: list[RunRecord]) -> dict[str, tuple[float, int | None]]:
    """Stage -> (seconds summed over every run and attempt, items made (None: no unit)), in pipeline order."""
    seconds: dict[str, float] = {}
    for record in records:
        for entry in history(record.root):
            if entry.get("event") == "stage" and isinstance(entry.get("seconds"), (int, float)):
                seconds[entry["stage"]] = seconds.get(entry["stage"], 0.0) + float(entry["seconds"])
    totals: dict[str, tuple[float, int | None]] = {}
    for stage, spent in seconds.items():
        counted = ITEMS.get(stage)
        items = sum(counted[1](record.run) for record in records) if counted else None
        totals[stage] = (spent, items)
    return totals


def _duration(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours}h {minutes:02d}m" if hours else (f"{minutes}m {rest:04.1f}s" if minutes else f"{rest:.1f} s")


def timings_html(records: list[RunRecord]) -> str:
    """The stage-time table as trusted HTML; empty when no run has a history (made before it existed)."""
    totals = stage_times(records)
    if not totals:
        return ""
    rows = []
    for stage, (seconds, items) in totals.items():
        unit = ITEMS[stage][0] if stage in ITEMS else ""
        rate = f"{items / seconds:.2f} {unit}/s" if items and seconds > 0 else "—"
        count = f"{items} {unit}" if items is not None else "—"
        cells = (stage, _duration(seconds), count, rate)
        rows.append("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in cells) + "</tr>")
    total = sum(seconds for seconds, _ in totals.values())
    return (
        "<h3>Wall time per stage</h3><table class='timings'><thead><tr><th>stage</th><th>wall time</th>"
        f"<th>items</th><th>rate</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        f"<p class='note'>Summed over every attempt of {len(records)} run(s), {_duration(total)} in all (the "
        "build of this page is not included); from each run's <code>history.jsonl</code>.</p>"
    )
