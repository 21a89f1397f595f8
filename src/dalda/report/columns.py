"""Which classifiers and diversity metrics the report shows, in which order and under which title.

Both come from their registries (``dalda.probes``, ``dalda.metrics``), so a new probe or metric gets its columns
without an edit here. A classifier a run recorded but no registered probe knows (a run made with a plugin that
is not loaded) still gets a column, titled by its name, after the known ones.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Literal

from dalda.metrics import DIVERSITY_METRICS, FIDELITY_METRICS, column_title
from dalda.probes import PROBES
from dalda.report.collect import RunRecord

RecordValue = Callable[[RunRecord], float | None]


def classifier_title(classifier: str) -> str:
    return PROBES.get(classifier).title if classifier in PROBES else classifier


def _found(records: Sequence[RunRecord]) -> set[str]:
    return {classifier for record in records for classifier in record.accuracy}


def classifiers_of(records: Sequence[RunRecord]) -> list[str]:
    """The classifiers the records have, in table order (Tab. 2: Acc-CLIP, then Acc-RN50)."""

    def key(name: str) -> tuple[float, str]:
        return (PROBES.get(name).table_order if name in PROBES else math.inf, name)

    return sorted(_found(records), key=key)


def classifiers_in_figure_order(records: Sequence[RunRecord]) -> list[str]:
    """The classifiers the records have, in the paper's figure order (Fig. 8, Tab. 3: ResNet50 first)."""

    def key(name: str) -> tuple[float, str]:
        return (PROBES.get(name).figure_order if name in PROBES else math.inf, name)

    return sorted(_found(records), key=key)


def accuracy_of(classifier: str) -> RecordValue:
    return lambda record: record.accuracy.get(classifier)


def diversity_columns(
    records: Sequence[RunRecord] | None = None,
) -> list[tuple[str, RecordValue, Literal["lower", "higher"]]]:
    """(column title, value of a run, the better direction) of each diversity metric ("CLIP-I (↓)", ..., "lower"),
    then each fidelity metric ("FID (↓)": lower is closer to the real images).

    A metric marked ``optional`` (off by default: DINO, FID, KID) gets a column only when one of ``records``
    has a value for it, so reports of runs that never enabled it look as before.
    """
    columns: list[tuple[str, RecordValue, Literal["lower", "higher"]]] = []
    for name, metric in [*DIVERSITY_METRICS.items(), *FIDELITY_METRICS.items()]:
        if getattr(metric, "optional", False) and not any(r.diversity.get(name) is not None for r in records or ()):
            continue
        better: Literal["lower", "higher"] = "higher" if metric.higher_is_more_diverse else "lower"
        columns.append((column_title(metric), _diversity_of(name), better))
    return columns


def _diversity_of(name: str) -> RecordValue:
    return lambda record: record.diversity.get(name)
