"""Diversity of the synthetic set: CLIP-I (lower = more diverse), LPIPS (higher = more diverse), paper Sec. 4.2.

Pairing rule (the paper does not state one; this is ours, recorded in ``diversity.json``):

- **by source** (the headline numbers): a group is the set of synthetic images generated from one real image;
  a group's score is the mean over its unordered pairs of distinct images; the reported value is the mean over
  groups (every real image weighs the same). This measures what the paper's methods change: how different the
  M images made from one image prompt are. In the 1-shot setting each class has one real image, so this is
  also the within-class value.
- **by class** (``evaluate.within_class``): the same over all synthetic images of a class, averaged over classes.

A metric that pairs with the source (``pairs_with_source``: ``clip_i_real``, DreamBooth's CLIP-I) pairs each
synthetic image of a group with the real image it was generated from instead; the group means and the mean over
groups are taken the same way. Synthetic images whose real file is missing are left out of those pairs.

A group with more than ``evaluate.max_pairs`` pairs is scored on ``max_pairs`` distinct pairs drawn without
replacement by a generator seeded with (seed, group name), so reruns give the same pairs. Groups with fewer
than two images have no pair and are left out (counted).

Each metric is an entry of ``dalda.metrics`` (CLIP-I, LPIPS, ...) with its own settings
(``evaluate.metrics.<name>``); ``diversity.json`` holds, per pairing rule, a section for every enabled metric, and
at the top level every registered diversity metric's by-source mean (None when it is disabled).
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dalda.artefacts import ManifestLine
from dalda.config import EvaluateConfig
from dalda.images import load_rgb
from dalda.metrics import METRICS, diversity_metrics, metric_settings

PAIRING_RULE = (
    "by_source: unordered pairs of distinct synthetic images generated from the same real image, mean per real "
    "image, then mean over real images; by_class: the same over all synthetic images of a class, mean over classes; "
    "at most max_pairs pairs per group, drawn without replacement with a generator seeded by (seed, group); "
    "metrics marked with_source (clip_i_real, dino_real) pair each synthetic image of a group with its real source "
    "image instead"
)


@dataclass(frozen=True)
class SyntheticImage:
    path: Path
    source: str
    """The real image it was generated from (its path)."""
    class_name: str


def manifest_images(manifest: Path, synthetic_root: Path) -> tuple[list[SyntheticImage], int]:
    """The manifest's synthetic images whose files exist, and how many rows had no file."""
    images: list[SyntheticImage] = []
    missing = 0
    for row in ManifestLine.read_all(manifest):
        path = row.image_path(synthetic_root)
        if not path.is_file():
            missing += 1
            continue
        source = row.source_file(Path(synthetic_root).parent)
        images.append(SyntheticImage(path, str(source), str(row.class_name or row.label)))
    return images, missing


def sample_pairs(n: int, max_pairs: int, rng: np.random.Generator) -> np.ndarray:
    """(P, 2) index pairs i < j among ``n`` items: all of them, or ``max_pairs`` distinct ones drawn uniformly."""
    total = n * (n - 1) // 2
    if total <= max_pairs:
        first, second = np.triu_indices(n, k=1)
        return np.stack([first, second], axis=1)
    ranks = np.sort(rng.choice(total, size=max_pairs, replace=False))
    # Unrank r -> (i, j): row i holds pairs (i, i+1..n-1) and starts at rank i*n - i*(i+1)/2.
    starts = np.arange(n) * n - np.arange(n) * (np.arange(n) + 1) // 2
    first = np.searchsorted(starts, ranks, side="right") - 1
    second = ranks - starts[first] + first + 1
    return np.stack([first, second], axis=1)


def group_pairs(groups: Mapping[str, Sequence[int]], max_pairs: int, seed: int) -> dict[str, np.ndarray]:
    """Pairs of global image indices for each group with at least two images."""
    pairs: dict[str, np.ndarray] = {}
    for name, members in groups.items():
        if len(members) < 2:
            continue
        rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
        local = sample_pairs(len(members), max_pairs, rng)
        pairs[name] = np.asarray(members)[local]
    return pairs


def summarise(
    scores: Mapping[str, float], pairs: Mapping[str, np.ndarray], class_of: Mapping[str, str]
) -> dict[str, Any]:
    """Mean over groups, per-class means, and counts."""
    per_class: dict[str, list[float]] = defaultdict(list)
    for name, value in scores.items():
        per_class[class_of[name]].append(value)
    return {
        "mean": float(np.mean(list(scores.values()))) if scores else None,
        "per_class": {name: float(np.mean(values)) for name, values in sorted(per_class.items())},
        "num_groups": len(scores),
        "num_pairs": int(sum(len(pairs[name]) for name in scores)),
    }


def source_pairs(
    groups: Mapping[str, Sequence[int]], source_of: Sequence[int | None], max_pairs: int, seed: int
) -> dict[str, np.ndarray]:
    """(synthetic index, its real image's index) pairs of each group whose images have a real file; at most
    ``max_pairs`` per group, drawn without replacement with a generator seeded by (seed, group name)."""
    pairs: dict[str, np.ndarray] = {}
    for name, members in groups.items():
        rows = np.asarray([[i, source_of[i]] for i in members if source_of[i] is not None], dtype=np.int64)
        if not len(rows):
            continue
        if len(rows) > max_pairs:
            rng = np.random.default_rng([seed, zlib.crc32(name.encode()), 1])
            rows = rows[np.sort(rng.choice(len(rows), size=max_pairs, replace=False))]
        pairs[name] = rows
    return pairs


def _with_sources(images: Sequence[SyntheticImage]) -> tuple[list[Path], list[int | None]]:
    """Synthetic paths followed by their distinct real source files, and each synthetic image's source index."""
    paths = [image.path for image in images]
    index: dict[str, int] = {}
    source_of: list[int | None] = []
    for image in images:
        if image.source not in index and Path(image.source).is_file():
            index[image.source] = len(paths)
            paths.append(Path(image.source))
        source_of.append(index.get(image.source))
    return paths, source_of


def diversity_report(
    images: Sequence[SyntheticImage], models: Mapping[str, Any], evaluate: EvaluateConfig, seed: int
) -> dict[str, Any]:
    """Each metric of ``models`` (metric name -> its loaded model) by source image (and by class), with its
    settings from ``evaluate.metrics``."""
    rules = {"by_source": lambda image: image.source}
    if evaluate.within_class:
        rules["by_class"] = lambda image: image.class_name
    paths = [image.path for image in images]
    with_source = {name for name in models if getattr(METRICS.get(name), "pairs_with_source", False)}
    extended, source_of = _with_sources(images) if with_source else (paths, [])
    scorers = {
        name: METRICS.get(name).group_scorer(
            model, extended if name in with_source else paths, load_rgb, evaluate, metric_settings(evaluate, name)
        )
        for name, model in models.items()
    }
    report: dict[str, Any] = {"pairing_rule": PAIRING_RULE, "max_pairs": evaluate.max_pairs, "num_images": len(images)}
    for rule, key_of in rules.items():
        groups: dict[str, list[int]] = defaultdict(list)
        class_of: dict[str, str] = {}
        for i, image in enumerate(images):
            groups[key_of(image)].append(i)
            class_of[key_of(image)] = image.class_name
        pairs = group_pairs(groups, evaluate.max_pairs, seed)
        section: dict[str, Any] = {"num_groups_total": len(groups), "groups_without_pairs": len(groups) - len(pairs)}
        real_pairs = source_pairs(groups, source_of, evaluate.max_pairs, seed) if with_source else {}
        for name, scorer in scorers.items():
            chosen = real_pairs if name in with_source else pairs
            section[name] = summarise(scorer(chosen), chosen, class_of) if chosen else summarise({}, {}, {})
        report[rule] = section
    for name, _ in diversity_metrics():
        report[name] = report["by_source"].get(name, {}).get("mean")
    return report
