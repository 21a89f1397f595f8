"""Accuracy of a probe's predictions: per class, macro (mean of per-class accuracies) and micro (share correct).

Shared by the train stage (``train.protocol=authors`` evaluates after every epoch) and the evaluate stage.
Caltech-101 and Flowers102 are unbalanced, so the two summaries differ; the authors report the macro one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch


def accuracy_report(predictions: torch.Tensor, labels: torch.Tensor, classes: Sequence[str]) -> dict[str, Any]:
    """Micro (``accuracy``) and macro accuracy, accuracy and image count per class name.

    A class with no evaluation image has accuracy None and is left out of the macro mean. Every share is computed
    in float64, so 161 of 250 reads 0.644, not float32's 0.6439999938.
    """
    predictions, labels = predictions.cpu(), labels.cpu()
    correct = predictions == labels
    per_class: dict[str, float | None] = {}
    counts: dict[str, int] = {}
    for label, name in enumerate(classes):
        mask = labels == label
        counts[name] = int(mask.sum())
        per_class[name] = float(correct[mask].double().mean()) if counts[name] else None
    present = [value for value in per_class.values() if value is not None]
    micro = float(correct.double().mean()) if len(labels) else 0.0
    return {
        "accuracy": micro,
        "micro_accuracy": micro,
        "macro_accuracy": float(np.mean(present)) if present else 0.0,
        "num_eval": int(len(labels)),
        "per_class_accuracy": per_class,
        "per_class_count": counts,
    }


SELECTED_ON = "evaluation split (the authors' best-epoch choice; optimistic for every method alike)"


def best_epoch(epochs: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The evaluated epoch with the highest macro accuracy (the earliest on ties), marked as chosen on the
    evaluation split; None when no epoch was evaluated."""
    if not epochs:
        return None
    best = max(epochs, key=lambda entry: (entry["macro_accuracy"], -entry["epoch"]))
    return {
        "epoch": best["epoch"],
        "macro_accuracy": best["macro_accuracy"],
        "micro_accuracy": best["micro_accuracy"],
        "selected_on": SELECTED_ON,
    }
