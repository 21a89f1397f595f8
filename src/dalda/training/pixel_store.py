"""Training and evaluation images decoded and resized once, kept as uint8 pixels (``train.protocol=authors``).

Under ``authors`` every draw is flipped and rotated afresh, so no feature can be cached; but what a draw costs
before that (reading the file, decoding it, resizing it) gives the same pixels every time. The store does it
once per image: row ``r`` holds image ``r`` as (3, S, S) uint8, exactly the pixels of the probe's plain view
before normalisation (:func:`dalda.probes.transforms.square_resize` of :func:`dalda.images.load_rgb`),
and each batch is then gathered from it and augmented on the training device (``dalda.probes.augment``).

Memory: 3 x S x S bytes per image (147 KiB at 224 px, about 6,800 images per GB). A store of at most
``train.pixel_memory_gb`` lives in memory; a larger one is a memory-mapped file in the given folder (the run's
``features/``), so the operating system keeps in its page cache whatever fits and reads the rest from disk. The
file's name is removed as soon as it is mapped (POSIX), so it disappears with the process however that ends.

Decoding runs on ``train.decode_workers`` threads: Pillow releases the GIL while it decodes and resizes, and each
thread writes its rows in place, so nothing is copied between processes.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dalda.config import TrainConfig
from dalda.images import load_rgb
from dalda.probes.transforms import square_resize
from dalda.progress import progress_bar

log = logging.getLogger(__name__)

GB = 1e9


class PixelStore:
    """uint8 (N, 3, S, S) resized images, addressed by the path each came from."""

    def __init__(self, array: np.ndarray, paths: Sequence[Path], decode_seconds: float = 0.0) -> None:
        self._array = array
        self._rows = {Path(path): row for row, path in enumerate(paths)}
        self.decode_seconds = decode_seconds

    @property
    def image_size(self) -> int:
        return int(self._array.shape[-1])

    @property
    def nbytes(self) -> int:
        return int(self._array.nbytes)

    @property
    def in_memory(self) -> bool:
        """False when the pixels live in a memory-mapped file (the store was larger than its memory limit)."""
        return not isinstance(self._array, np.memmap)

    def __len__(self) -> int:
        return len(self._array)

    def rows_of(self, paths: Sequence[Path]) -> np.ndarray:
        """The store row of each path; an image the store was not built with is an error."""
        try:
            return np.array([self._rows[Path(path)] for path in paths], dtype=np.int64)
        except KeyError as error:
            raise ValueError(f"image {error.args[0]} is not in the pixel store it was looked up in") from None

    def gather(self, rows: np.ndarray) -> torch.Tensor:
        """(len(rows), 3, S, S) uint8 CPU tensor of those rows, in that order (a copy)."""
        return torch.from_numpy(np.take(self._array, np.asarray(rows, dtype=np.int64), axis=0))

    def describe(self) -> dict[str, Any]:
        return {
            "images": len(self),
            "image_size": self.image_size,
            "bytes": self.nbytes,
            "in_memory": self.in_memory,
            "decode_seconds": self.decode_seconds,
        }


def _empty_pixels(shape: tuple[int, ...], memory_limit: float, spill_dir: Path) -> np.ndarray:
    """An uninitialised uint8 array: in memory up to ``memory_limit`` bytes, else mapped from a fresh file."""
    size = int(np.prod(shape))
    if size <= memory_limit:
        return np.empty(shape, dtype=np.uint8)
    spill_dir.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=".pixel-store-", suffix=".u8", dir=spill_dir)
    try:
        os.ftruncate(handle, size)
        array = np.memmap(name, dtype=np.uint8, mode="r+", shape=shape)
    finally:
        os.close(handle)
        os.unlink(name)  # the mapping stays; the file is gone once the process lets go of it
    log.info("pixel store of %.2f GB > train.pixel_memory_gb: memory-mapped in %s", size / GB, spill_dir)
    return array


def build_pixel_store(
    paths: Sequence[Path],
    image_size: int,
    memory_limit: float,
    spill_dir: Path,
    workers: int,
    description: str = "decoding images",
) -> PixelStore:
    """Decode and resize every path once (``workers`` threads, 0 or 1: this thread) into a new store.

    ``memory_limit`` is in bytes; ``paths`` may repeat (each distinct path gets one row).
    """
    unique = list(dict.fromkeys(Path(path) for path in paths))
    array = _empty_pixels((len(unique), 3, image_size, image_size), memory_limit, spill_dir)

    def decode(row: int) -> None:
        array[row] = np.asarray(square_resize(load_rgb(unique[row]), image_size)).transpose(2, 0, 1)

    start = time.perf_counter()
    with progress_bar(description, total=len(unique), unit="img") as advance:
        if workers <= 1:
            for row in range(len(unique)):
                decode(row)
                advance(1)
        else:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dalda-decode") as pool:
                for _ in pool.map(decode, range(len(unique))):
                    advance(1)
    return PixelStore(array, unique, time.perf_counter() - start)


def pixel_store_for(train: TrainConfig, paths: Sequence[Path], spill_dir: Path) -> PixelStore:
    """The store of ``paths`` at ``train.image_size`` as ``train`` configures it (memory limit, decoding threads)."""
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return build_pixel_store(
        paths,
        train.image_size,
        train.pixel_memory_gb * GB,
        spill_dir,
        min(train.decode_workers, available),
        "decoding images once (train.protocol=authors)",
    )
