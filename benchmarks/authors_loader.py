"""The authors' probe-training loop (``train.protocol=authors``), re-implemented in our own code for
``bench_training.py --loader``.

Their loop, per epoch:

- a dataset over image files whose ``__getitem__`` opens the file, converts it to RGB and applies
  Resize((S, S)) -> RandomHorizontalFlip -> RandomRotation(15) -> ToTensor -> Normalize(0.5, 0.5);
- a ``DataLoader`` with 4 worker processes feeds batches of 32; the frozen backbone runs in ``train()`` mode
  without gradients, the linear head takes one optimiser step per batch;
- after the epoch, the evaluation draws (with replacement) are read the same way (Resize, ToTensor, Normalize)
  through a ``DataLoader`` with 4 workers and classified in ``eval()`` mode, every draw encoded.

Which image each batch position reads comes from dalda's ``MixingSampler`` with the fit's seed and the evaluation
draws from the generator dalda's ``EpochEvaluator`` uses, so this loop and dalda's read the same images in the
same order; only the way pixels reach the backbone differs.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader, Dataset, Sampler
from torchvision import transforms as T

from dalda.probes.encoder import ProbeEncoder
from dalda.probes.accuracy import accuracy_report
from dalda.training.sampling import MixingSampler

HALF = (0.5, 0.5, 0.5)


def train_transform(size: int) -> T.Compose:
    return T.Compose(
        [T.Resize((size, size)), T.RandomHorizontalFlip(), T.RandomRotation(15), T.ToTensor(), T.Normalize(HALF, HALF)]
    )


def eval_transform(size: int) -> T.Compose:
    return T.Compose([T.Resize((size, size)), T.ToTensor(), T.Normalize(HALF, HALF)])


class FileDataset(Dataset):
    """Image files and labels; every item is read from disk and transformed when it is asked for."""

    def __init__(self, paths: Sequence[Path], labels: Sequence[int], transform: T.Compose) -> None:
        self.paths = list(paths)
        self.labels = list(labels)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        with Image.open(self.paths[index]) as image:
            rgb = image.convert("RGB")
        return self.transform(rgb), self.labels[index]


class GivenBatches(Sampler[list[int]]):
    """A batch sampler yielding the given batches of item indices, in order."""

    def __init__(self, batches: Sequence[np.ndarray]) -> None:
        self.batches = [batch.tolist() for batch in batches]

    def __iter__(self) -> Iterator[list[int]]:
        return iter(self.batches)

    def __len__(self) -> int:
        return len(self.batches)


@dataclass
class LoopResult:
    train_seconds: float
    eval_seconds: float
    final_macro_accuracy: float


def authors_fit(
    encoder: ProbeEncoder,
    head: nn.Module,
    optimizer: torch.optim.Optimizer,
    train_set: FileDataset,
    eval_set: FileDataset,
    classes: Sequence[str],
    sampler: MixingSampler,
    eval_rng: np.random.Generator,
    epochs: int,
    iterations: int,
    eval_draws: int,
    workers: int = 4,
) -> LoopResult:
    """Train ``head`` the authors' way; seconds spent training and evaluating, and the last epoch's macro accuracy."""
    device = encoder.device
    train_seconds = eval_seconds = 0.0
    macro = float("nan")
    for _ in range(epochs):
        start = time.perf_counter()
        encoder.module.train()
        head.train()
        batches = [batch.items for batch in sampler.batches(iterations)]
        loader = DataLoader(train_set, batch_sampler=GivenBatches(batches), num_workers=workers)
        for pixels, labels in loader:
            with torch.no_grad():
                features = encoder.encode(pixels)
            loss = nn.functional.cross_entropy(head(features), labels.to(device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        _sync(device)
        train_seconds += time.perf_counter() - start

        start = time.perf_counter()
        encoder.module.eval()
        head.eval()
        drawn = eval_rng.integers(len(eval_set), size=eval_draws)
        eval_batches = [drawn[i : i + sampler.batch_size] for i in range(0, eval_draws, sampler.batch_size)]
        loader = DataLoader(eval_set, batch_sampler=GivenBatches(eval_batches), num_workers=workers)
        predicted, truth = [], []
        with torch.no_grad():
            for pixels, labels in loader:
                predicted.append(head(encoder.encode(pixels)).argmax(dim=1).cpu())
                truth.append(labels)
        _sync(device)
        eval_seconds += time.perf_counter() - start
        macro = accuracy_report(torch.cat(predicted), torch.cat(truth), list(classes))["macro_accuracy"]
    return LoopResult(train_seconds, eval_seconds, macro)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
