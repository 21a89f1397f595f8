"""Diversity of the synthetic set: CLIP-I (lower = more diverse) and LPIPS (higher = more diverse), paper Sec. 4.2.

Pairing rule (the paper does not state one; this is ours, recorded in ``diversity.json``):

- **by source** (the headline numbers): a group is the set of synthetic images generated from one real image;
  a group's score is the mean over its unordered pairs of distinct images; the reported value is the mean over
  groups (every real image weighs the same). This measures what the paper's methods change: how different the
  M images made from one image prompt are. In the 1-shot setting each class has one real image, so this is
  also the within-class value.
- **by class** (``evaluate.within_class``): the same over all synthetic images of a class, averaged over classes.

A group with more than ``evaluate.max_pairs`` pairs is scored on ``max_pairs`` distinct pairs drawn without
replacement by a generator seeded with (seed, group name), so reruns give the same pairs. Groups with fewer
than two images have no pair and are left out (counted).

- CLIP-I: cosine of CLIP image embeddings (CLIP's own preprocessing, ``models.clip_model``); 1 for identical
  images.
- LPIPS: the ``lpips`` package's distance with its AlexNet trunk on images resized to
  ``evaluate.lpips_size`` and scaled to [-1, 1]; 0 for identical images. Offline profiles (``tiny``,
  ``full-random``) use a randomly initialised AlexNet (``lpips_backbone: "random"``): those values exercise the
  code path but are not comparable to the paper; real scores need ``models.profile=real`` (pretrained AlexNet).
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torchvision.transforms import InterpolationMode
from torchvision.transforms import functional as TF

from dalda.artefacts.manifest import ManifestLine
from dalda.data.images import load_rgb
from dalda.models.loaders import ClipBundle
from dalda.training.progress import progress_bar

PAIRING_RULE = (
    "by_source: unordered pairs of distinct synthetic images generated from the same real image, mean per real "
    "image, then mean over real images; by_class: the same over all synthetic images of a class, mean over classes; "
    "at most max_pairs pairs per group, drawn without replacement with a generator seeded by (seed, group)"
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
        images.append(SyntheticImage(path, str(row.source_path), str(row.class_name or row.label)))
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


def clip_i_by_group(embeddings: torch.Tensor, pairs: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Mean cosine of each group's pairs, from unit-norm embeddings (N, D)."""
    scores = {}
    for name, index in pairs.items():
        left, right = embeddings[torch.as_tensor(index[:, 0])], embeddings[torch.as_tensor(index[:, 1])]
        scores[name] = float((left * right).sum(dim=1).mean())
    return scores


def clip_embeddings(clip: ClipBundle, paths: Sequence[Path]) -> torch.Tensor:
    """(N, D) unit-norm CLIP image embeddings, loading images one batch at a time (a large set never sits in memory)."""
    chunks = [torch.empty(0, clip.embed_dim)]
    with progress_bar("CLIP-I embeddings", total=len(paths)) as advance:
        for start in range(0, len(paths), clip.batch_size):
            batch = paths[start : start + clip.batch_size]
            chunks.append(clip.encode_images([load_rgb(path) for path in batch]))
            advance(len(batch))
    return torch.cat(chunks)


def _lpips_tensor(path: Path, size: int) -> torch.Tensor:
    image = TF.resize(load_rgb(path), [size, size], interpolation=InterpolationMode.BILINEAR)
    return TF.pil_to_tensor(image)  # uint8: four times less memory than float while a group is held


@torch.inference_mode()
def lpips_by_group(
    model: torch.nn.Module, paths: Sequence[Path], pairs: Mapping[str, np.ndarray], size: int, batch_size: int
) -> dict[str, float]:
    """Mean LPIPS distance of each group's pairs; a group's images are loaded once, pairs run in batches."""
    device = next(model.parameters()).device
    scores = {}
    total = sum(len(index) for index in pairs.values())
    with progress_bar("LPIPS pairs", total=total) as advance:
        for name, index in pairs.items():
            images = {i: _lpips_tensor(paths[i], size) for i in np.unique(index)}
            distances = []
            for start in range(0, len(index), batch_size):
                chunk = index[start : start + batch_size]
                left = torch.stack([images[i] for i in chunk[:, 0]]).to(device).float() / 127.5 - 1.0
                right = torch.stack([images[j] for j in chunk[:, 1]]).to(device).float() / 127.5 - 1.0
                distances.append(model(left, right).flatten().float().cpu())
                advance(len(chunk))
            scores[name] = float(torch.cat(distances).mean())
    return scores


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


def diversity_report(
    images: Sequence[SyntheticImage],
    *,
    clip: ClipBundle | None,
    lpips_model: torch.nn.Module | None,
    max_pairs: int,
    lpips_size: int,
    batch_size: int,
    within_class: bool,
    seed: int,
) -> dict[str, Any]:
    """CLIP-I and LPIPS by source image (and by class); a metric whose model is None is skipped."""
    rules = {"by_source": lambda image: image.source}
    if within_class:
        rules["by_class"] = lambda image: image.class_name
    paths = [image.path for image in images]
    embeddings = clip_embeddings(clip, paths) if clip is not None else None
    report: dict[str, Any] = {"pairing_rule": PAIRING_RULE, "max_pairs": max_pairs, "num_images": len(images)}
    for rule, key_of in rules.items():
        groups: dict[str, list[int]] = defaultdict(list)
        class_of: dict[str, str] = {}
        for i, image in enumerate(images):
            groups[key_of(image)].append(i)
            class_of[key_of(image)] = image.class_name
        pairs = group_pairs(groups, max_pairs, seed)
        section: dict[str, Any] = {"num_groups_total": len(groups), "groups_without_pairs": len(groups) - len(pairs)}
        if embeddings is not None:
            section["clip_i"] = summarise(clip_i_by_group(embeddings, pairs), pairs, class_of)
        if lpips_model is not None:
            distances = lpips_by_group(lpips_model, paths, pairs, lpips_size, batch_size)
            section["lpips"] = summarise(distances, pairs, class_of)
        report[rule] = section
    report["clip_i"] = report["by_source"].get("clip_i", {}).get("mean")
    report["lpips"] = report["by_source"].get("lpips", {}).get("mean")
    return report
