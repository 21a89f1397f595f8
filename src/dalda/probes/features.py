"""Encode each image (and view) once through a frozen backbone and keep the features on disk.

With a frozen eval-mode backbone the features of an image never change, so each distinct (image, view) is encoded
once, in batches, and the head trains on a lookup table instead of 50 epochs x 200 iterations x 32 = 320,000
forward passes; the sampling sequence is unchanged (``sampling.py``), so the head equals the one trained by
encoding every batch of that same eval-mode backbone. It is NOT the authors' probe: their backbone runs in train
mode (BatchNorm batch statistics, drifting running statistics) on freshly flipped and rotated draws, which no
cache can reproduce; that is ``train.protocol=authors``, and this cache serves ``fast`` (docs/protocol.md).

The cache is one safetensors file per backbone identity in the run's ``features/`` folder. A key is
``<sha256 of the image file's bytes>:<view>``, so renamed or re-listed files reuse their features, an edited
file gets new ones, and the file's metadata records the full backbone identity (a cache written by another
model or preprocessing is never mixed in: it lives in another file).

Cells of an experiment grid share one features folder per dataset, and several may run at once. Encoding holds
an inter-process lock on the cache file (``<cache>.lock``): the holder first merges in what others saved, encodes
only what is still missing and saves the union atomically, so no feature is encoded twice and none is lost.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file
from safetensors.torch import save as save_tensors

from dalda.images import load_rgb
from dalda.io import atomic_open, file_lock
from dalda.probes.encoder import ProbeEncoder
from dalda.progress import progress_bar

log = logging.getLogger(__name__)


class FeatureCache:
    """Features of one backbone identity, loaded from and saved to ``<folder>/<slug>.safetensors``."""

    def __init__(self, folder: Path, identity: str) -> None:
        self.identity = identity
        slug = hashlib.sha256(identity.encode()).hexdigest()[:16]
        self.path = Path(folder) / f"{identity.split('|', 1)[0]}-{slug}.safetensors"
        self._features: dict[str, torch.Tensor] = {}
        self._dirty = False
        if self.path.exists():
            self._load()

    def _load(self) -> None:
        try:
            with safe_open(str(self.path), framework="pt") as handle:
                stored = (handle.metadata() or {}).get("identity")
            if stored != self.identity:
                log.warning("feature cache %s belongs to %r, not %r; rebuilding it", self.path, stored, self.identity)
                return
            self._features = {**load_file(str(self.path)), **self._features}
        except (SafetensorError, OSError) as error:
            log.warning("feature cache %s is unreadable (%s); rebuilding it", self.path, error)

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    def refresh(self) -> None:
        """Merge in features another process saved since this cache was loaded (hold :attr:`lock_path`)."""
        if self.path.exists():
            self._load()

    def __len__(self) -> int:
        return len(self._features)

    def __contains__(self, key: str) -> bool:
        return key in self._features

    def get(self, key: str) -> torch.Tensor:
        return self._features[key]

    def put(self, key: str, feature: torch.Tensor) -> None:
        self._features[key] = feature.detach().to("cpu", torch.float32).contiguous().clone()
        self._dirty = True

    def save(self) -> None:
        """Write the cache atomically (only when something was added)."""
        if not self._dirty:
            return
        payload = save_tensors(self._features, metadata={"identity": self.identity})
        with atomic_open(self.path, "wb") as handle:
            handle.write(payload)
        self._dirty = False


def encode_pixels(
    encoder: ProbeEncoder, paths: Sequence[Path], digests: Sequence[str], views: Sequence[int]
) -> torch.Tensor:
    """Load, transform and encode one batch of (image, view) pairs: (B, D) float32 on the encoder's device."""
    pixels = torch.stack(
        [encoder.transform(load_rgb(path), view, digest) for path, digest, view in zip(paths, digests, views)]
    )
    return encoder.encode(pixels)


def cached_features(
    encoder: ProbeEncoder,
    cache: FeatureCache,
    paths: Sequence[Path],
    digests: Sequence[str],
    views: Sequence[int],
    batch_size: int,
    description: str,
) -> torch.Tensor:
    """Features of every (image, view) in ``paths x views``: (N, V, D) float32 on CPU, encoding only what is missing.

    ``digests[i]`` is :func:`dalda.hashing.file_sha256` of ``paths[i]``. Encoding is batched and gradient-free; the
    cache is saved once at the end.
    """
    keys = [[f"{digest}:{encoder.transform.view_key(view)}" for view in views] for digest in digests]
    if any(key not in cache for row in keys for key in row):
        cache.path.parent.mkdir(parents=True, exist_ok=True)
        with file_lock(cache.lock_path):  # cells sharing this cache encode one at a time (module docstring)
            cache.refresh()
            _encode_missing(encoder, cache, keys, paths, digests, views, batch_size, description)
    if not keys:
        return torch.empty(0, len(views), encoder.feature_dim)
    return torch.stack([torch.stack([cache.get(key) for key in row]) for row in keys])


def _encode_missing(
    encoder: ProbeEncoder,
    cache: FeatureCache,
    keys: list[list[str]],
    paths: Sequence[Path],
    digests: Sequence[str],
    views: Sequence[int],
    batch_size: int,
    description: str,
) -> None:
    # One (image, view) per missing key: duplicated images are encoded once.
    first: dict[str, tuple[int, int]] = {}
    for i, row in enumerate(keys):
        for v, key in enumerate(row):
            if key not in cache:
                first.setdefault(key, (i, v))
    missing = list(first.values())
    if missing:
        encoder.module.eval()
        with progress_bar(description, total=len(missing), unit="img") as advance, torch.inference_mode():
            for start in range(0, len(missing), batch_size):
                chunk = missing[start : start + batch_size]
                features = encode_pixels(
                    encoder, [paths[i] for i, _ in chunk], [digests[i] for i, _ in chunk], [views[v] for _, v in chunk]
                )
                for (i, v), feature in zip(chunk, features):
                    cache.put(keys[i][v], feature)
                advance(len(chunk))
        cache.save()
        log.info("feature cache %s: encoded %d new features", cache.path.name, len(missing))
