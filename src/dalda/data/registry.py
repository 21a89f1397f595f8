"""The one table of dataset loaders, by the name a user puts in ``data.dataset``.

A registry (like torchvision's / timm's) keeps "which datasets exist" in one place: the config validator, the
CLI and :func:`load_dataset_index` all read this table instead of repeating if/elif chains.

The entries import their module on first call, so validating a config (which reads ``DATASETS``) does not pull
in torchvision, numpy or PIL.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dalda.config import DataConfig
    from dalda.data.records import DatasetIndex

DatasetLoader = Callable[["DataConfig", Path], "DatasetIndex"]


def _demo(cfg: DataConfig, cache_dir: Path) -> DatasetIndex:
    from dalda.data.demo import load_demo

    return load_demo(cfg, cache_dir)


def _pets(cfg: DataConfig, cache_dir: Path) -> DatasetIndex:
    from dalda.data.torchvision_sets import load_pets

    return load_pets(cfg, cache_dir)


def _caltech101(cfg: DataConfig, cache_dir: Path) -> DatasetIndex:
    from dalda.data.torchvision_sets import load_caltech101

    return load_caltech101(cfg, cache_dir)


def _flowers102(cfg: DataConfig, cache_dir: Path) -> DatasetIndex:
    from dalda.data.torchvision_sets import load_flowers102

    return load_flowers102(cfg, cache_dir)


def _imagefolder(cfg: DataConfig, cache_dir: Path) -> DatasetIndex:
    from dalda.data.imagefolder import load_imagefolder

    return load_imagefolder(cfg, cache_dir)


DATASETS: dict[str, DatasetLoader] = {
    "demo": _demo,
    "pets": _pets,
    "caltech101": _caltech101,
    "flowers102": _flowers102,
    "imagefolder": _imagefolder,
}


def load_dataset_index(cfg: DataConfig, cache_dir: Path) -> DatasetIndex:
    """Index ``cfg.dataset``: class names plus trainval/test records.

    ``cache_dir`` is where the demo is drawn when ``cfg.root`` is None; the other datasets do not use it.
    """
    if cfg.dataset not in DATASETS:
        raise ValueError(f"data.dataset={cfg.dataset!r} is not a known dataset; choose one of {sorted(DATASETS)}")
    return DATASETS[cfg.dataset](cfg, Path(cache_dir))
