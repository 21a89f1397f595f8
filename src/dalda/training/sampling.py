"""Which image each training draw uses: a real image, or with probability p one of its own synthetic images.

This is the authors' mixing rule (paper Sec. 4.1, ``docs/protocol.md``): every draw first picks a real
training image uniformly; with probability ``p`` it is swapped for one of the synthetic images generated *from
that real image* (uniform among them). A real image without synthetic images keeps itself, so the effective
synthetic rate can fall below ``p``; :class:`SamplingStats` records it. ``p = 0`` never swaps (the paper's
"no augmentation" row).

The whole draw sequence comes from one seeded NumPy generator and nothing else, so the cached-feature trainer
and the encode-every-batch trainer see exactly the same images in the same order, and a run is repeatable.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TrainingPool:
    """Everything a draw can return: real images are items ``0..R-1``, synthetic image ``j`` is item ``R + j``.

    ``synthetic_of_real[i]`` lists the synthetic indices (``j``) made from real image ``i``; a synthetic image
    belongs to exactly one real image and carries that image's label.
    """

    real_labels: tuple[int, ...]
    synthetic_of_real: tuple[tuple[int, ...], ...]

    def __post_init__(self) -> None:
        if not self.real_labels:
            raise ValueError("the training pool has no real images; the split's train list is empty")
        if len(self.synthetic_of_real) != len(self.real_labels):
            raise ValueError(
                f"synthetic_of_real has {len(self.synthetic_of_real)} entries for {len(self.real_labels)} real images"
            )
        seen = sorted(j for group in self.synthetic_of_real for j in group)
        if seen != list(range(len(seen))):
            raise ValueError("synthetic indices must be 0..S-1, each listed under exactly one real image")

    @property
    def num_real(self) -> int:
        return len(self.real_labels)

    @property
    def num_synthetic(self) -> int:
        return sum(len(group) for group in self.synthetic_of_real)

    @property
    def num_items(self) -> int:
        return self.num_real + self.num_synthetic

    def item_labels(self) -> np.ndarray:
        """Label of every item (real then synthetic), so a batch of items maps to its targets in one lookup."""
        labels = np.empty(self.num_items, dtype=np.int64)
        labels[: self.num_real] = self.real_labels
        for real, group in enumerate(self.synthetic_of_real):
            for j in group:
                labels[self.num_real + j] = self.real_labels[real]
        return labels


@dataclass(frozen=True)
class Batch:
    """One batch of draws: the real image each draw started from, the item it uses, and which cached view."""

    real: np.ndarray
    items: np.ndarray
    views: np.ndarray
    synthetic: np.ndarray


@dataclass
class SamplingStats:
    """What the sampler actually drew, for the results file (the effective rate can be below p)."""

    probability: float
    draws: int = 0
    synthetic_draws: int = 0
    swaps_refused: int = 0
    """Draws whose coin said "synthetic" but whose real image has no synthetic image."""

    @property
    def effective_rate(self) -> float:
        return self.synthetic_draws / self.draws if self.draws else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {
            "synthetic_probability": self.probability,
            "draws": self.draws,
            "synthetic_draws": self.synthetic_draws,
            "swaps_refused": self.swaps_refused,
            "effective_synthetic_rate": self.effective_rate,
        }


class MixingSampler:
    """Seeded batches of draws following the p-mixing rule; ``num_views`` > 1 also picks an augmented view."""

    def __init__(
        self, pool: TrainingPool, probability: float, batch_size: int, seed: int, num_views: int = 1
    ) -> None:
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"synthetic probability must be in [0, 1], got {probability}")
        if batch_size < 1 or num_views < 1:
            raise ValueError(f"batch_size ({batch_size}) and num_views ({num_views}) must be at least 1")
        self.pool = pool
        self.probability = probability
        self.batch_size = batch_size
        self.num_views = num_views
        self.stats = SamplingStats(probability)
        self._rng = np.random.default_rng(seed)
        self._counts = np.array([len(group) for group in pool.synthetic_of_real], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(self._counts)[:-1]]) if len(self._counts) else np.zeros(0)
        self._offsets = offsets.astype(np.int64)
        # Flattened synthetic ids grouped by real image, so "k-th synthetic image of real i" is one lookup.
        self._flat = np.array([j for group in pool.synthetic_of_real for j in group], dtype=np.int64)

    def next_batch(self) -> Batch:
        """Draw one batch. The generator is consumed identically whatever p is or which images have synthetics."""
        size = self.batch_size
        real = self._rng.integers(self.pool.num_real, size=size)
        coin = self._rng.random(size) < self.probability
        pick = self._rng.random(size)
        views = self._rng.integers(self.num_views, size=size)
        counts = self._counts[real]
        synthetic = coin & (counts > 0)
        items = real.copy()
        if synthetic.any():
            k = np.minimum((pick[synthetic] * counts[synthetic]).astype(np.int64), counts[synthetic] - 1)
            items[synthetic] = self.pool.num_real + self._flat[self._offsets[real[synthetic]] + k]
        self.stats.draws += size
        self.stats.synthetic_draws += int(synthetic.sum())
        self.stats.swaps_refused += int((coin & (counts == 0)).sum())
        return Batch(real=real, items=items, views=views, synthetic=synthetic)

    def batches(self, count: int) -> Iterator[Batch]:
        for _ in range(count):
            yield self.next_batch()


def build_pool(real_labels: Sequence[int], synthetic_sources: Sequence[int]) -> TrainingPool:
    """A pool from the real labels and, for each synthetic image ``j``, the index of the real image it came from."""
    groups: list[list[int]] = [[] for _ in real_labels]
    for j, source in enumerate(synthetic_sources):
        if not 0 <= source < len(real_labels):
            raise ValueError(f"synthetic image {j} names real image {source}, outside 0..{len(real_labels) - 1}")
        groups[source].append(j)
    return TrainingPool(tuple(int(x) for x in real_labels), tuple(tuple(group) for group in groups))
