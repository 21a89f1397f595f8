"""Evaluation after every epoch: the authors' accuracy curve and its best epoch (``train.protocol=authors``), and
the ``fast`` protocol's accuracy curve on cached features (``CachedEpochScorer``).

After each epoch the head (and the backbone, whose BatchNorm statistics drifted while fitting) is switched to
eval mode and scored on ``train.eval_draws`` evaluation images drawn uniformly with replacement, fresh draws each
epoch from a seeded generator; per-class, macro and micro accuracy of those draws are recorded, then the
modules go back to training. The best epoch is chosen by macro accuracy on this evaluation split, as the authors'
plotting script does; that choice is made on the evaluation data, so it is reported beside the final epoch and
never instead of it (docs/protocol.md). The evaluation images' resized pixels come from the pixel store the
training draws use (decoded once, ``pixel_store.py``) and are normalised on the device.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from dalda.datasets import ImageRecord
from dalda.probes.encoder import ProbeEncoder
from dalda.probes.accuracy import accuracy_report
from dalda.probes.augment import normalise
from dalda.training.pixel_store import PixelStore

def has_running_statistics(module: nn.Module) -> bool:
    """Whether train-mode forwards change the module's buffers (BatchNorm running statistics)."""
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats for m in module.modules())


class EpochEvaluator:
    """Called with the epoch number after every epoch; keeps one accuracy record per epoch in ``epochs``."""

    def __init__(
        self,
        encoder: ProbeEncoder,
        head: nn.Module,
        records: Sequence[ImageRecord],
        classes: Sequence[str],
        draws: int,
        seed: int,
        batch_size: int,
        store: PixelStore,
    ) -> None:
        if not records:
            raise ValueError("train.protocol=authors evaluates every epoch, but the split has no evaluation image")
        self.encoder = encoder
        self.head = head
        self.store = store
        self.rows = store.rows_of([Path(record.path) for record in records])
        self.labels = torch.as_tensor([record.label for record in records])
        self.classes = list(classes)
        self.draws = draws
        self.batch_size = batch_size
        self._rng = np.random.default_rng([seed, 6400])
        self._static = not has_running_statistics(encoder.module)
        self._features: torch.Tensor | None = None
        self.epochs: list[dict[str, Any]] = []

    @torch.inference_mode()
    def _encode(self, index: np.ndarray) -> torch.Tensor:
        mean, std = self.encoder.transform.mean, self.encoder.transform.std
        chunks = [torch.empty(0, self.encoder.feature_dim)]
        for start in range(0, len(index), self.batch_size):
            pixels = self.store.gather(self.rows[index[start : start + self.batch_size]]).to(self.encoder.device)
            chunks.append(self.encoder.encode(normalise(pixels, mean, std)).cpu())
        return torch.cat(chunks)

    def __call__(self, epoch: int) -> None:
        module = self.encoder.module
        was_training = module.training
        module.eval()
        self.head.eval()
        drawn = self._rng.integers(len(self.rows), size=self.draws)
        unique, position = np.unique(drawn, return_inverse=True)
        if self._static:  # a backbone without running statistics gives the same features every epoch
            if self._features is None:
                self._features = self._encode(np.arange(len(self.rows)))
            features = self._features[torch.as_tensor(unique)]
        else:
            features = self._encode(unique)
        with torch.inference_mode():
            device = next(self.head.parameters()).device
            predicted = self.head(features.to(device)).argmax(dim=1).cpu()
        labels = self.labels[torch.as_tensor(drawn)]
        report = accuracy_report(predicted[torch.as_tensor(position)], labels, self.classes)
        self.epochs.append({"epoch": epoch, "num_draws": self.draws, **_accuracies(report)})
        module.train(was_training)


def _accuracies(report: dict[str, Any]) -> dict[str, Any]:
    keys = ("macro_accuracy", "micro_accuracy", "per_class_accuracy", "per_class_count")
    return {key: report[key] for key in keys}


class CachedEpochScorer:
    """``train.protocol=fast`` with cached features: after every epoch, macro and micro accuracy of the head on
    every evaluation image's cached feature (the same features the evaluate stage scores), for the report's
    training curves only. Nothing is chosen by it: the results file's accuracy stays the final epoch's."""

    def __init__(self, head: nn.Module, features: torch.Tensor, labels: Sequence[int], classes: Sequence[str]):
        self.head = head
        self.features = features
        self.labels = torch.as_tensor(list(labels))
        self.classes = list(classes)
        self.epochs: list[dict[str, Any]] = []

    def __call__(self, epoch: int) -> None:
        self.head.eval()
        with torch.inference_mode():
            device = next(self.head.parameters()).device
            predicted = self.head(self.features.to(device)).argmax(dim=1).cpu()
        report = accuracy_report(predicted, self.labels, self.classes)
        self.epochs.append({"epoch": epoch, "macro_accuracy": report["macro_accuracy"],
                            "micro_accuracy": report["micro_accuracy"]})  # fmt: skip
