"""Which runs an image section of the report shows: per dataset, the first (shots, trial) cell that has them.

An experiment holds the same dataset at several shot counts and trials; the scatter, the prompt table and the
gallery each show one cell per dataset (every method of it side by side) instead of repeating themselves for
every trial. A single run is its own cell.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from dalda.methods import method_sort_key
from dalda.report.collect import RunRecord
from dalda.report.groups import dataset_order


def showcase_cells(
    records: Sequence[RunRecord], has: Callable[[RunRecord], bool]
) -> list[tuple[str, list[RunRecord]]]:
    """(dataset, its runs of the first (shots, trial) for which ``has`` holds, in method order), per dataset."""
    cells = []
    for dataset in dataset_order([record.dataset for record in records]):
        mine = [record for record in records if record.dataset == dataset and has(record)]
        if not mine:
            continue
        first = min((record.shots, record.trial) for record in mine)
        chosen = [record for record in mine if (record.shots, record.trial) == first]
        cells.append((dataset, sorted(chosen, key=lambda record: method_sort_key(record.method))))
    return cells


def cell_title(records: Sequence[RunRecord]) -> str:
    """"4-shot trial 0" for the runs of one cell."""
    return f"{records[0].shots}-shot trial {records[0].trial}"
