"""Classification accuracy on the evaluation split: micro, macro and per class (``dalda.probes.accuracy``).

Evaluation images go through the same backbone and preprocessing (the un-augmented view) as training; with a
frozen backbone their features come from the run's feature cache, so evaluating the CLIP probe and the
zero-shot CLIP reference encodes the evaluation set once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch
from torch import nn

from dalda.datasets import ImageRecord
from dalda.probes.encoder import ProbeEncoder
from dalda.probes.accuracy import accuracy_report
from dalda.hashing import file_sha256
from dalda.probes.features import FeatureCache, cached_features, encode_pixels
from dalda.progress import progress_bar
from dalda.probes.transforms import PLAIN_VIEW

__all__ = ["accuracy_report", "chance_level", "confusion_counts", "eval_features", "predict"]


def eval_features(
    encoder: ProbeEncoder, records: Sequence[ImageRecord], features_dir: Path, batch_size: int, use_cache: bool
) -> torch.Tensor:
    """(N, D) features of the evaluation images (plain view); cached unless the backbone was fine-tuned."""
    paths = [Path(record.path) for record in records]
    digests = [file_sha256(path) for path in paths]
    if use_cache:
        cache = FeatureCache(features_dir, encoder.identity)
        table = cached_features(
            encoder, cache, paths, digests, [PLAIN_VIEW], batch_size, f"encoding {encoder.classifier} eval features"
        )
        return table[:, 0]
    encoder.module.eval()
    chunks = [torch.empty(0, encoder.feature_dim)]
    description = f"encoding {encoder.classifier} eval images"
    with progress_bar(description, total=len(paths), unit="img") as advance, torch.inference_mode():
        for start in range(0, len(paths), batch_size):
            batch = slice(start, start + batch_size)
            views = [PLAIN_VIEW] * len(paths[batch])
            chunks.append(encode_pixels(encoder, paths[batch], digests[batch], views).cpu())
            advance(len(views))
    return torch.cat(chunks)


@torch.no_grad()
def predict(head: nn.Module, features: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
    """Predicted class index of each feature row."""
    head.eval()
    device = next(head.parameters()).device
    chunks = [torch.empty(0, dtype=torch.long)]
    for start in range(0, len(features), batch_size):
        chunks.append(head(features[start : start + batch_size].to(device)).argmax(dim=1).cpu())
    return torch.cat(chunks)


def confusion_counts(predictions: torch.Tensor, labels: torch.Tensor, num_classes: int) -> list[list[int]]:
    """Confusion counts: ``[true][predicted]`` number of evaluation images, rows and columns in class order."""
    index = labels.cpu().long() * num_classes + predictions.cpu().long()
    counts = torch.bincount(index, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes).tolist()


def chance_level(accuracy: float, metric: str, per_class_count: Mapping[str, int]) -> str | None:
    """Why ``accuracy`` cannot be told from guessing, or None when it can.

    Guessing scores ``1/K`` in macro accuracy (K classes evaluated) and, always answering the largest class, that
    class's share in micro accuracy. With ``n`` evaluation images a guesser's score varies by about
    ``sqrt(c (1 - c) / n)``, so an accuracy within two of those of chance ``c`` (or below) is flagged: a NaN-ridden
    fit, a learning rate far off, or labels that do not match the images all end here and must not read as a result.
    """
    counts = [count for count in per_class_count.values() if count > 0]
    total = sum(counts)
    if len(counts) < 2:
        return None  # one class: Split.warnings says so already
    chance = 1 / len(counts) if metric == "macro" else max(counts) / total
    margin = 2 * math.sqrt(chance * (1 - chance) / total)
    if accuracy > chance + margin:
        return None
    return (
        f"{metric} accuracy {accuracy:.4f} is at chance level ({chance:.4f} +- {margin:.4f} for {len(counts)} "
        f"classes, {total} evaluation images): the classifier learned nothing usable; check its training loss and "
        "learning rate"
    )
