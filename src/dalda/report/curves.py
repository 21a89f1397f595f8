"""Training curves of one classifier: loss and accuracy per epoch, where the results file stores them.

From ``results/<classifier>.json``: ``training.epoch_losses`` (mean cross-entropy per epoch, both protocols),
``training.epoch_train_accuracies`` (share of the epoch's training draws classified right; runs made before it
existed lack it) and the evaluation accuracy per epoch: ``epochs`` under ``train.protocol=authors`` (evaluation
draws), ``training.epoch_eval_accuracies`` under ``fast`` with cached features (every evaluation image), else
the final epoch alone. The real-only reference's curves, when stored, are drawn dashed beside the run's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matplotlib.ticker import MaxNLocator

from dalda.artefacts import ClassifierResult
from dalda.report.charts import plt, save_figure
from dalda.report.columns import classifier_title

CURVE_NAMES = ("loss", "training accuracy", "evaluation macro accuracy", "evaluation micro accuracy")


def _series(values: Any) -> list[float]:
    if not isinstance(values, list):
        return []
    return [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]


def stored_curves(result: ClassifierResult) -> dict[str, list[tuple[int, float]]]:
    """name -> (epoch, value) points of every curve the results file stores (empty when it stores none)."""
    training = result.training or {}
    curves: dict[str, list[tuple[int, float]]] = {}
    for name, key in (("loss", "epoch_losses"), ("training accuracy", "epoch_train_accuracies")):
        values = _series(training.get(key))
        if values:
            curves[name] = list(enumerate(values, start=1))
    evaluated = result.epochs or []
    if len(evaluated) <= 1 and isinstance(training.get("epoch_eval_accuracies"), list):
        evaluated = training["epoch_eval_accuracies"] or evaluated  # fast: every epoch on cached features
    for metric in ("macro", "micro"):
        points = [
            (int(entry["epoch"]), float(entry[f"{metric}_accuracy"]))
            for entry in evaluated
            if isinstance(entry, dict) and isinstance(entry.get("epoch"), int)
            and isinstance(entry.get(f"{metric}_accuracy"), (int, float))
        ]  # fmt: skip
        if points:
            curves[f"evaluation {metric} accuracy"] = points
    return curves


def curves_chart(
    result: ClassifierResult, reference: ClassifierResult | None, title: str, classifier: str, path: Path
) -> Path | None:
    """Loss (left) and accuracy (right) per epoch; None when the results file stores no loss."""
    ours = stored_curves(result)
    if "loss" not in ours:
        return None
    theirs = stored_curves(reference) if reference is not None and reference is not result else {}
    figure, (loss_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(10, 3.4))
    colours = dict(zip(CURVE_NAMES, ("#333333", "#1f77b4", "#d62728", "#ff7f0e")))
    for curves, style, label in ((ours, "-", "this run"), (theirs, "--", "real only")):
        for name, points in curves.items():
            xs, ys = zip(*points)
            axes = loss_axes if name == "loss" else accuracy_axes
            text = label if name == "loss" else f"{name} ({label})"
            axes.plot(xs, ys, style, marker="o", markersize=3, color=colours.get(name), label=text)
    for axes in (loss_axes, accuracy_axes):
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    loss_axes.set(xlabel="epoch", ylabel="mean cross-entropy", title=f"{classifier_title(classifier)} loss")
    accuracy_axes.set(xlabel="epoch", ylabel="accuracy", title=f"{classifier_title(classifier)} accuracy", ylim=(0, 1))
    loss_axes.legend(fontsize=7)
    if accuracy_axes.lines:
        accuracy_axes.legend(fontsize=7)
    figure.suptitle(title, fontsize=9)
    return save_figure(figure, path)
