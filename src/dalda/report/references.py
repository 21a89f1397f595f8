"""The two reference rows every accuracy table carries: real images only, and zero-shot CLIP.

- **Real images only**: the classifier the train stage trained beside the run's own on the real images alone
  (``results/real_only/<classifier>.json``, ``train.real_only_reference``). A run that used no synthetic image
  (method ``none``) is its own reference. Runs made before the reference existed simply have no such row.
- **Zero-shot CLIP**: the untrained CLIP head the evaluate stage scores (``zero_shot_clip_*`` of a results
  file), shown in the columns of probes that offer a zero-shot head (``ProbeSpec.zero_shot``), in the same
  accuracy as the run's headline number (macro under ``train.protocol=authors``, micro under ``fast``).

Runs of the same dataset, shots and trial share their split and seed, so their references are the same
numbers; tables show each (dataset, shots, trial) once and average over trials like every other row. References
are never candidates for "best" in a table (``Table.references``).
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dalda.artefacts import ClassifierResult
from dalda.probes import PROBES
from dalda.report.collect import RunRecord

log = logging.getLogger(__name__)

REAL_ONLY = "Real images only (reference)"
ZERO_SHOT = "Zero-shot CLIP (reference)"
REAL_ONLY_METHOD = "real-only reference"
ZERO_SHOT_METHOD = "zero-shot CLIP reference"


@dataclass
class RunAccuracy:
    """The accuracy files of one run: its own results, its real-only reference and the zero-shot numbers."""

    record: RunRecord
    results: dict[str, ClassifierResult] = field(default_factory=dict)
    """classifier -> the run's own ``results/<classifier>.json``."""
    real_only: dict[str, ClassifierResult] = field(default_factory=dict)
    """classifier -> the real-only reference (the run's own result when the run is real-only)."""

    @property
    def is_real_only(self) -> bool:
        return bool(self.results) and all(result.method == "none" for result in self.results.values())

    def zero_shot(self, classifier: str) -> float | None:
        """Zero-shot CLIP accuracy in ``classifier``'s headline metric; None when not stored or not a zero-shot
        probe's column."""
        result = self.results.get(classifier)
        if result is None or not (classifier in PROBES and PROBES.get(classifier).zero_shot):
            return None
        return zero_shot_accuracy(result)

    def zero_shot_per_class(self, classifier: str) -> dict[str, float | None]:
        result = self.results.get(classifier)
        return dict(result.zero_shot_clip_per_class_accuracy or {}) if result else {}


def zero_shot_accuracy(result: ClassifierResult) -> float | None:
    """The zero-shot accuracy comparable with ``result.accuracy``: the macro mean of its per-class accuracies
    when the headline is macro (authors), else the stored (micro) number."""
    if result.accuracy_metric == "macro" and result.zero_shot_clip_per_class_accuracy:
        present = [v for v in result.zero_shot_clip_per_class_accuracy.values() if isinstance(v, (int, float))]
        return sum(present) / len(present) if present else None
    value = result.zero_shot_clip_accuracy
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _read(path: Path) -> ClassifierResult | None:
    if not path.is_file():
        return None
    try:
        return ClassifierResult.read(path)
    except ValueError:
        log.warning("skipping unreadable results file %s", path)
        return None


def load_run_accuracy(record: RunRecord) -> RunAccuracy:
    """Every results file of ``record`` the report's accuracy sections read (missing files are left out)."""
    details = RunAccuracy(record)
    for classifier in record.results_files:
        own = _read(record.run.result_file(classifier))
        if own is None:
            continue
        details.results[classifier] = own
        reference = own if own.method == "none" else _read(record.run.reference_result_file(classifier))
        if reference is not None and isinstance(reference.accuracy, (int, float)):
            details.real_only[classifier] = reference
    return details


def run_label(record: RunRecord, base: Path) -> str:
    """How tables name a run: its path relative to the report's folder, or its folder name for the run itself."""
    where = os.path.relpath(record.root, base)
    return record.root.resolve().name if where == "." else where


TrialKey = tuple[str, int, int]
"""(dataset, shots, trial): runs sharing it share their split, seed and so their references."""


def _trial_key(record: RunRecord) -> TrialKey:
    return (record.dataset, record.shots, record.trial)


def reference_values(
    details: Sequence[RunAccuracy], classifier: str
) -> tuple[dict[TrialKey, float], dict[TrialKey, float]]:
    """(real-only, zero-shot) accuracy of ``classifier`` per (dataset, shots, trial); runs of the same trial
    with different numbers (other training settings) are averaged."""
    real: dict[TrialKey, list[float]] = defaultdict(list)
    zero: dict[TrialKey, list[float]] = defaultdict(list)
    for item in details:
        key = _trial_key(item.record)
        reference = item.real_only.get(classifier)
        if reference is not None:
            real[key].append(float(reference.accuracy))  # type: ignore[arg-type]
        value = item.zero_shot(classifier)
        if value is not None:
            zero[key].append(value)
    mean = lambda values: sum(values) / len(values)  # noqa: E731
    return {k: mean(v) for k, v in real.items()}, {k: mean(v) for k, v in zero.items()}


def trial_keys(details: Sequence[RunAccuracy]) -> list[TrialKey]:
    return sorted({_trial_key(item.record) for item in details})
