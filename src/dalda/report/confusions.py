"""Which classes a classifier mistakes for which, from the confusion counts of its results file.

``confusion[true][predicted]`` (``ClassifierResult.confusion``, written by the evaluate stage) is read as is.
Every report lists the top confusions (true -> predicted, count, share of the true class's evaluation images),
which stays readable at any class count; a heat-map (rows normalised to shares) is drawn only up to
``MAX_HEATMAP_CLASSES`` classes, with the counts written in the cells up to ``MAX_ANNOTATED`` classes.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dalda.report.charts import plt, save_figure
from dalda.report.columns import classifier_title

MAX_HEATMAP_CLASSES = 30
MAX_ANNOTATED = 12
TOP = 15


@dataclass(frozen=True)
class Confusion:
    true: str
    predicted: str
    count: int
    share: float
    """count / evaluation images of the true class."""


def top_confusions(matrix: list[list[int]], classes: list[str], limit: int | None = TOP) -> list[Confusion]:
    """Off-diagonal cells with a count, largest first (ties: class order of the true, then predicted class)."""
    counts = np.asarray(matrix, dtype=np.int64)
    if counts.shape != (len(classes), len(classes)):
        raise ValueError(f"a confusion matrix of shape {counts.shape} does not fit {len(classes)} classes")
    totals = counts.sum(axis=1)
    found = [
        Confusion(classes[i], classes[j], int(counts[i, j]), float(counts[i, j] / totals[i]))
        for i in range(len(classes))
        for j in range(len(classes))
        if i != j and counts[i, j] > 0
    ]
    found.sort(key=lambda c: -c.count)  # stable: class order breaks ties
    return found if limit is None else found[:limit]


def confusions_csv(confusions: list[Confusion]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["True class", "Predicted class", "Count", "Share of true class"])
    for c in confusions:
        writer.writerow([c.true, c.predicted, c.count, repr(c.share)])
    return buffer.getvalue()


def heatmap(matrix: list[list[int]], classes: list[str], title: str, classifier: str, path: Path) -> Path | None:
    """The row-normalised confusion matrix; None above ``MAX_HEATMAP_CLASSES`` classes."""
    if not classes or len(classes) > MAX_HEATMAP_CLASSES:
        return None
    counts = np.asarray(matrix, dtype=np.float64)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    size = 2.5 + 0.3 * len(classes)
    figure, axes = plt.subplots(figsize=(size + 1.2, size))
    image = axes.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    ticks = list(range(len(classes)))
    axes.set_xticks(ticks, classes, rotation=90, fontsize=7)
    axes.set_yticks(ticks, classes, fontsize=7)
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    axes.set_title(f"Confusions of {classifier_title(classifier)}, {title}", fontsize=9)
    if len(classes) <= MAX_ANNOTATED:
        for i in ticks:
            for j in ticks:
                if counts[i, j]:
                    colour = "white" if shares[i, j] > 0.5 else "black"
                    axes.text(j, i, str(int(counts[i, j])), ha="center", va="center", fontsize=7, color=colour)
    figure.colorbar(image, ax=axes, label="share of the true class's images")
    return save_figure(figure, path)
