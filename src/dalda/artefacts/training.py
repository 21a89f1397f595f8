"""``results/<classifier>_train.json``: how a classifier was trained (also inside its ``_head.pt`` checkpoint).

Written by the train stage beside each checkpoint (``RunDir.train_record_file``, and
``RunDir.reference_train_record_file`` for the real-only reference); the evaluate stage reads the copy in the
checkpoint and repeats it in the results file (``training``). Keys are in the order the train stage always
wrote them; fields that records written before them lack read as None, and keys this version does not know are
kept (``extra``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dalda.artefacts.record import JsonRecord


@dataclass(frozen=True, kw_only=True)
class TrainingRecord(JsonRecord):
    WHAT = "training record"
    MADE_BY = "train"

    classifier: str
    seed: int
    """The seed the backbone, head and sampler were built with (evaluation rebuilds the backbone with it)."""
    feature_mode: str | None = None
    finetuned_backbone: bool
    backbone_identity: str
    model_id: str
    transform: dict[str, Any] | None = None
    num_train_real: int
    num_synthetic: int
    real_images_with_synthetic: int | None = None
    real_images_without_synthetic: int | None = None
    synthetic_source: str
    """Where the synthetic images came from: the manifest path, or why there were none."""
    manifest_rows_skipped: dict[str, int] | None = None
    """Manifest rows not trained on, by reason (``rejected_by_filter``, ``file_missing``, ...)."""
    synthetic_probability: float
    draws: int | None = None
    synthetic_draws: int | None = None
    swaps_refused: int | None = None
    effective_synthetic_rate: float
    steps: int | None = None
    epoch_losses: list[float] | None = None
    epoch_train_accuracies: list[float] | None = None
    train_seconds: float | None = None
    encode_seconds: float | None = None
    pixel_store: dict[str, Any] | None = None
    """protocol=authors: how the decoded training images were held (memory or a mapped file, size, seconds)."""
    protocol: str | None = None
    """``train.protocol``; None in records written before it existed (they were ``fast``)."""
    backbone_buffers_drifted: bool | None = None
    epoch_evaluations: list[dict[str, Any]] | None = None
    """``authors``: per-class, macro and micro accuracy after each epoch, on evaluation draws."""
    epoch_eval_accuracies: list[dict[str, Any]] | None = None
    train_config: dict[str, Any]
    reference: str | None = None
    """"real_only" for the real-images-only reference; absent from the file for the run's own classifier."""
    reference_key: str | None = None
    """The real-only reference's fingerprint of what it was trained from (training settings, models, seed, real
    images): a reference found in the run (a grid's shared copy, an earlier train) is reused only when it
    matches (``dalda.training.stage``). Absent from other records."""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        payload = super().to_json()
        for key in ("reference", "reference_key", "pixel_store"):  # absent where none (and from older files)
            if payload.get(key) is None:
                payload.pop(key)
        return payload
