"""Per-class accuracy of one run's classifier beside its two references, and a chart of the per-class gain.

Rows come straight from the results files (``per_class_accuracy`` of the run's result, of its real-only
reference, and ``zero_shot_clip_per_class_accuracy``), one per class in the split's class order. The gain is
the run's accuracy minus the real-only reference's, for classes both evaluated. The chart sorts classes by gain
and, beyond ``MAX_BARS`` classes, shows the ``MAX_BARS // 2`` largest and smallest gains, so a 100-class
dataset stays readable.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from dalda.report.charts import plt, save_figure
from dalda.report.columns import classifier_title
from dalda.report.references import RunAccuracy

MAX_BARS = 40
HEADERS = (
    "Class", "Eval images", "Real only (reference)", "Zero-shot CLIP (reference)", "This run", "Gain over real only",
)  # fmt: skip


@dataclass(frozen=True)
class ClassRow:
    name: str
    count: int | None
    real_only: float | None
    zero_shot: float | None
    run: float | None

    @property
    def gain(self) -> float | None:
        return None if self.run is None or self.real_only is None else self.run - self.real_only

    def cells(self) -> list[str | int | float | None]:
        return [self.name, self.count, self.real_only, self.zero_shot, self.run, self.gain]


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def per_class_rows(details: RunAccuracy, classifier: str) -> list[ClassRow]:
    """One row per class of ``classifier``'s results file (empty when it stores no per-class accuracy)."""
    result = details.results.get(classifier)
    if result is None or not result.per_class_accuracy:
        return []
    reference = details.real_only.get(classifier)
    real = (reference.per_class_accuracy or {}) if reference is not None else {}
    zero = details.zero_shot_per_class(classifier)
    counts = result.per_class_count or {}
    names = list(result.classes or result.per_class_accuracy)
    return [
        ClassRow(name, counts.get(name), _number(real.get(name)), _number(zero.get(name)),
                 _number(result.per_class_accuracy.get(name)))
        for name in names
    ]  # fmt: skip


def per_class_csv(rows: list[ClassRow]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADERS)
    for row in rows:
        cells = row.cells()
        writer.writerow(["" if cell is None else repr(cell) if isinstance(cell, float) else cell for cell in cells])
    return buffer.getvalue()


def gain_chart(rows: list[ClassRow], title: str, classifier: str, path: Path) -> Path | None:
    """Horizontal bars of the per-class gain over real only, sorted; None when no class has both numbers."""
    gains = sorted(((row.gain, row.name) for row in rows if row.gain is not None), key=lambda item: (-item[0], item[1]))
    if not gains:
        return None
    note = ""
    total = len(gains)
    if total > MAX_BARS:
        half = MAX_BARS // 2
        note = f"\nthe {half} largest and {half} smallest gains of {total} classes"
        gains = gains[:half] + gains[-half:]
    figure, axes = plt.subplots(figsize=(7.5, 1.2 + 0.24 * len(gains)))
    values = [gain for gain, _ in gains]
    positions = range(len(gains))
    colours = ["#2e7d32" if gain > 0 else "#c62828" if gain < 0 else "#9e9e9e" for gain in values]
    axes.barh(list(positions), values, color=colours)
    axes.set_yticks(list(positions), [name for _, name in gains], fontsize=8)
    axes.invert_yaxis()
    axes.axvline(0.0, color="#333", linewidth=0.8)
    if total > MAX_BARS:
        axes.axhline(MAX_BARS // 2 - 0.5, color="#777", linestyle="--", linewidth=0.8)  # classes left out here
    axes.set_xlabel(f"{classifier_title(classifier)}: accuracy of this run − real images only")
    axes.set_title(f"Per-class gain over real images only\n{title}{note}", fontsize=9)
    return save_figure(figure, path)
