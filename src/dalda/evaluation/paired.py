"""Did the synthetic images help this run? Its classifier against its real-only reference, image by image.

Both classifiers are scored by the same evaluate stage on the same evaluation images in the same order, so every
image gives a pair of outcomes (right or wrong, for each). From those pairs:

- the **gain**: the run's accuracy minus the reference's, in the run's headline accuracy (macro under
  ``authors``, micro under ``fast``), over every evaluation image once;
- a **paired bootstrap interval** of that gain: resample the evaluation images with replacement, recompute both
  accuracies on the same resample, take the percentiles of the differences. It says how much the gain could move
  with other evaluation images of the same classes; it does not cover the training's own randomness (trials do);
- **McNemar's exact test**: under "no difference" the images only one of the two classifies right are equally
  likely to be either's, so the run's count among them is Binomial(discordant, 1/2)
  (``scipy.stats.binomtest``, two-sided).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from scipy import stats

BOOTSTRAP_RESAMPLES = 2000
CONFIDENCE = 0.95
_CHUNK = 250


def weighted_accuracy(
    weights: np.ndarray, correct: np.ndarray, labels: np.ndarray, num_classes: int, metric: Literal["macro", "micro"]
) -> np.ndarray:
    """Accuracy of each row of ``weights`` (B, N): how often each evaluation image counts (a bootstrap resample;
    all ones for the images themselves). Macro: the mean over the classes a row holds of their accuracy."""
    weights = np.asarray(weights, dtype=np.float64)
    right = weights * correct
    if metric == "micro":
        return right.sum(axis=1) / weights.sum(axis=1)
    onehot = np.eye(num_classes, dtype=np.float64)[labels]
    totals, hits = weights @ onehot, right @ onehot
    present = totals > 0
    per_class = np.divide(hits, totals, out=np.zeros_like(hits), where=present)
    return per_class.sum(axis=1) / present.sum(axis=1)


def mcnemar_exact(run_correct: np.ndarray, reference_correct: np.ndarray) -> dict[str, Any]:
    """Discordant counts and McNemar's exact two-sided p (1.0 when no image is discordant)."""
    only_run = int(np.sum(run_correct & ~reference_correct))
    only_reference = int(np.sum(reference_correct & ~run_correct))
    discordant = only_run + only_reference
    pvalue = float(stats.binomtest(only_run, discordant, 0.5).pvalue) if discordant else 1.0
    return {"only_run_correct": only_run, "only_reference_correct": only_reference, "mcnemar_pvalue": pvalue}


def gain_over_reference(
    run_predictions: Sequence[int],
    reference_predictions: Sequence[int],
    labels: Sequence[int],
    num_classes: int,
    metric: Literal["macro", "micro"],
    seed: int,
    resamples: int = BOOTSTRAP_RESAMPLES,
    confidence: float = CONFIDENCE,
) -> dict[str, Any]:
    """The gain, its paired bootstrap interval and McNemar's test (module docstring), as the results file
    stores them (``ClassifierResult.gain_over_real_only``)."""
    truth = np.asarray(labels, dtype=np.int64)
    run = np.asarray(run_predictions, dtype=np.int64) == truth
    reference = np.asarray(reference_predictions, dtype=np.int64) == truth
    if not (len(run) == len(reference) == len(truth)) or not len(truth):
        raise ValueError(
            f"the run and its real-only reference must be scored on the same evaluation images "
            f"(got {len(run)}, {len(reference)} predictions for {len(truth)} images)"
        )
    ones = np.ones((1, len(truth)))
    run_accuracy = float(weighted_accuracy(ones, run, truth, num_classes, metric)[0])
    reference_accuracy = float(weighted_accuracy(ones, reference, truth, num_classes, metric)[0])
    rng = np.random.default_rng(seed)
    gains = []
    for start in range(0, resamples, _CHUNK):
        size = min(_CHUNK, resamples - start)
        weights = rng.multinomial(len(truth), np.full(len(truth), 1.0 / len(truth)), size=size)
        gains.append(
            weighted_accuracy(weights, run, truth, num_classes, metric)
            - weighted_accuracy(weights, reference, truth, num_classes, metric)
        )
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(np.concatenate(gains), [tail, 1.0 - tail])
    return {
        "metric": metric,
        "accuracy": run_accuracy,
        "reference_accuracy": reference_accuracy,
        "gain": run_accuracy - reference_accuracy,
        "ci_low": float(low),
        "ci_high": float(high),
        "confidence": confidence,
        "interval": "paired percentile bootstrap over evaluation images",
        "resamples": resamples,
        "seed": seed,
        "num_eval": int(len(truth)),
        **mcnemar_exact(run, reference),
    }
