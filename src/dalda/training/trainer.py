"""The training loop, written once for both ways of getting a batch's features.

``fit`` draws ``epochs x iterations_per_epoch`` batches from the mixing sampler and takes one optimiser step
per batch (cross-entropy, constant learning rate, as the authors train). It watches itself: a loss or gradient
that is not finite (a learning rate far too high, a broken image) stops the fit with :class:`NonFiniteTraining`
at the end of that epoch, instead of training on and reporting a chance-level head as a result; the check stays
on the device, so it costs no synchronisation per step. Where the features come from is a function of the batch:

- ``cached``: a row lookup in a table of pre-encoded features (frozen backbone; ``features.py``);
- ``encode``: load, transform and encode the drawn images now (the authors' way; and the only way when the
  backbone itself is fine-tuned);
- ``augmented``: gather the drawn images' resized pixels from the pixel store (decoded once, ``pixel_store.py``),
  flip and rotate each afresh on the training device and encode them now (``train.protocol=authors``).

The first two see the same draws in the same order, so on a frozen eval-mode backbone they produce the same head
up to floating-point reduction order.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from dalda.probes.encoder import ProbeEncoder
from dalda.probes.augment import DeviceFlipRotate
from dalda.probes.features import encode_pixels
from dalda.progress import progress_bar
from dalda.training.pixel_store import PixelStore
from dalda.training.sampling import Batch, MixingSampler

FeatureSource = Callable[[Batch], torch.Tensor]


@dataclass
class FitResult:
    epoch_losses: list[float]
    steps: int
    seconds: float
    epoch_train_accuracies: list[float] = field(default_factory=list)
    """Share of the epoch's training draws the head classified right as it was trained on them (both protocols)."""


class NonFiniteTraining(RuntimeError):
    """The loss or a gradient of a fit became NaN or infinite; the message names the classifier, epoch and learning
    rate and what to change."""


def _learning_rates(optimizer: torch.optim.Optimizer) -> str:
    return ", ".join(sorted({f"{group['lr']:g}" for group in optimizer.param_groups}))


def fit(
    head: nn.Module,
    optimizer: torch.optim.Optimizer,
    sampler: MixingSampler,
    item_labels: torch.Tensor,
    features_of: FeatureSource,
    epochs: int,
    iterations_per_epoch: int,
    description: str = "training",
    on_epoch_end: Callable[[int], None] | None = None,
    classifier: str = "classifier",
) -> FitResult:
    """Train ``head`` (and whatever else ``optimizer`` holds) on the sampler's batches; mean loss and training
    accuracy (of each batch's logits before its step) per epoch.

    ``on_epoch_end(epoch)`` (1-based) runs after each epoch, e.g. to evaluate the head (``train.protocol=authors``);
    it may switch modules to eval mode: the head is put back in train mode after it. A non-finite loss or gradient
    norm raises :class:`NonFiniteTraining` naming ``classifier``, the epoch and the learning rate.
    """
    device = next(head.parameters()).device
    labels = item_labels.to(device)
    parameters = [p for group in optimizer.param_groups for p in group["params"]]
    head.train()
    losses: list[float] = []
    accuracies: list[float] = []
    start = time.perf_counter()
    with progress_bar(description, total=epochs * iterations_per_epoch, unit="step") as advance:
        for epoch in range(1, epochs + 1):
            total = torch.zeros((), device=device)
            correct = torch.zeros((), device=device)
            drawn = 0
            finite = torch.ones((), dtype=torch.bool, device=device)
            for batch in sampler.batches(iterations_per_epoch):
                features = features_of(batch).to(device)
                targets = labels[torch.as_tensor(batch.items, device=device)]
                logits = head(features)
                loss = nn.functional.cross_entropy(logits, targets)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                gradient_norm = nn.utils.clip_grad_norm_(parameters, float("inf"))  # max_norm inf: measures only
                finite &= torch.isfinite(loss.detach()) & torch.isfinite(gradient_norm).to(device)
                optimizer.step()
                total += loss.detach()
                correct += (logits.detach().argmax(dim=1) == targets).sum()
                drawn += len(targets)
                advance(1)
            if not bool(finite):
                raise NonFiniteTraining(
                    f"training {classifier} stopped at epoch {epoch}/{epochs}: the loss or a gradient is not finite "
                    f"(learning rate {_learning_rates(optimizer)}); lower the learning rate "
                    f"(train.probes.{classifier}.lr) or check the training images"
                )
            losses.append(float(total) / iterations_per_epoch)
            accuracies.append(float(correct) / max(drawn, 1))
            if on_epoch_end is not None:
                on_epoch_end(epoch)
                head.train()
    return FitResult(losses, epochs * iterations_per_epoch, time.perf_counter() - start, accuracies)


def cached_source(table: torch.Tensor, device: torch.device) -> FeatureSource:
    """Features from an (items, views, D) table already on ``device``: one gather per batch."""
    table = table.to(device)

    def features_of(batch: Batch) -> torch.Tensor:
        items = torch.as_tensor(batch.items, device=device)
        views = torch.as_tensor(batch.views, device=device)
        return table[items, views]

    return features_of


def encoding_source(
    encoder: ProbeEncoder, paths: Sequence[Path], digests: Sequence[str], views: Sequence[int], trainable: bool
) -> FeatureSource:
    """Features by encoding the drawn images now; with gradients only when the backbone is being fine-tuned."""

    def features_of(batch: Batch) -> torch.Tensor:
        args = ([paths[i] for i in batch.items], [digests[i] for i in batch.items], [views[v] for v in batch.views])
        if trainable:
            return encode_pixels(encoder, *args)
        with torch.no_grad():
            return encode_pixels(encoder, *args)

    return features_of


def augmented_source(
    encoder: ProbeEncoder, store: PixelStore, item_rows: np.ndarray, augment: DeviceFlipRotate
) -> FeatureSource:
    """Features of freshly augmented draws: item ``i``'s pixels are store row ``item_rows[i]``; flipped, rotated and
    normalised on the device, encoded now without gradients (in whatever mode the backbone is in: under
    ``train.protocol=authors`` it is ``train()``, so BatchNorm uses and updates batch statistics)."""

    def features_of(batch: Batch) -> torch.Tensor:
        pixels = augment(store.gather(item_rows[batch.items]))
        with torch.no_grad():
            return encoder.encode(pixels)

    return features_of
