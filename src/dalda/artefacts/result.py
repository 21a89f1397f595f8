"""``results/<classifier>.json``: one row of the paper's tables plus everything needed to trust and rebuild it.

``results/real_only/<classifier>.json`` has the same format: the real-images-only reference trained beside the
run's classifier (``train.real_only_reference``; in a grid, once per dataset, shots, trial and classifier and shared
by the method cells), with ``reference: "real_only"``. The run's own file then carries its gain over it
(``gain_over_real_only``), computed from both files' per-image ``predictions``.

Written by the evaluate stage, read by the report and the experiment runner. Fields a file from an older
version lacks read as None; keys this version does not know are kept (``extra``) and written back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dalda.artefacts.record import JsonRecord


@dataclass(frozen=True)
class ClassifierResult(JsonRecord):
    """One classifier's evaluation (``RunDir.result_file`` / ``reference_result_file``: read and write take the
    path)."""

    WHAT = "results"
    MADE_BY = "evaluate"

    method: str | None = None
    """The method the training set used; "none" when it held no synthetic image."""
    configured_method: str | None = None
    dataset: str | None = None
    shots: int | None = None
    trial: int | None = None
    eval_split: str | None = None
    classifier: str | None = None
    accuracy: float | None = None
    per_class_accuracy: dict[str, float] | None = None
    per_class_count: dict[str, int] | None = None
    num_eval: int | None = None
    num_eval_unreadable: int | None = None
    num_classes: int | None = None
    classes: list[str] | None = None
    num_train_real: int | None = None
    num_synthetic: int | None = None
    synthetic_probability: float | None = None
    effective_synthetic_rate: float | None = None
    synthetic_source: Any = None
    zero_shot_clip_accuracy: float | None = None
    zero_shot_clip_per_class_accuracy: dict[str, float] | None = None
    diversity: dict[str, Any] | None = None
    """The run's diversity values (``clip_i``, ``lpips``, ...), repeated from ``diversity.json``."""
    models: dict[str, Any] | None = None
    seed: int | None = None
    training: dict[str, Any] | None = None
    train_config: dict[str, Any] | None = None
    protocol: str | None = None
    """``train.protocol`` that made the numbers ("authors" or "fast"); None in files written before it existed."""
    protocol_description: str | None = None
    accuracy_metric: str | None = None
    """What ``accuracy`` is: "macro" (mean of per-class accuracies; authors) or "micro" (share correct; fast)."""
    macro_accuracy: float | None = None
    micro_accuracy: float | None = None
    final_epoch: dict[str, Any] | None = None
    """The final epoch's macro and micro accuracy on every evaluation image once."""
    best_epoch: dict[str, Any] | None = None
    """authors: the epoch with the best macro accuracy on evaluation draws, marked ``selected_on`` the evaluation
    split; reported beside ``final_epoch``, never instead of it. None under fast."""
    epochs: list[dict[str, Any]] | None = None
    """Per-class, macro and micro accuracy of every evaluated epoch (fast: the final one only)."""
    confusion: list[list[int]] | None = None
    """Confusion counts ``[true][predicted]`` over the evaluation images, in ``classes`` order; None in files
    written before it existed."""
    predictions: list[int] | None = None
    """Predicted class index of each readable evaluation image (final epoch), in the split's evaluation order;
    with ``labels`` it pairs this classifier with its real-only reference image by image. None in older files."""
    labels: list[int] | None = None
    """True class index of each of those images."""
    gain_over_real_only: dict[str, Any] | None = None
    """The run's accuracy minus its real-only reference's on the same evaluation images (``gain``), its paired
    bootstrap interval (``ci_low``, ``ci_high``, ``confidence``, ``resamples``) and McNemar's exact test
    (``mcnemar_pvalue`` and the discordant counts): ``dalda.evaluation.paired``. None for a reference, a run
    without one, and older files."""
    reference: str | None = None
    """"real_only" for the real-images-only reference (``results/real_only/<classifier>.json``); None for the run's
    own classifier."""
    at_chance_level: bool | None = None
    """Whether ``accuracy`` cannot be told from guessing (``dalda.evaluation.accuracy.chance_level``); None in files
    written before it existed."""
    warnings: list[str] | None = None
    """What makes the accuracy meaningless or partial (one class only, classes never evaluated:
    ``Split.warnings``; an accuracy at chance level); absent from the file when there is none."""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        payload = super().to_json()
        # absent where none (and from older files)
        for key in ("warnings", "predictions", "labels", "gain_over_real_only", "at_chance_level"):
            if payload.get(key) is None:
                payload.pop(key)
        return payload
