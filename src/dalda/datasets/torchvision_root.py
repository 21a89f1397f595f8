"""The folder torchvision reads one of the paper's datasets from, shared by the Pets, Caltech and Flowers loaders.

torchvision knows each dataset's archive layout, its official splits and how to download it; the loaders take
only file paths and labels from its dataset objects. Nothing is downloaded unless ``data.download`` is true; a
missing dataset is an error that shows the folder layout expected under ``data.root``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from dalda.datasets.records import ImageRecord

T = TypeVar("T")

logger = logging.getLogger(__name__)


def dataset_root(root: Path | None, name: str) -> Path:
    """``root`` resolved; None is an error naming ``data.root``."""
    if root is None:
        raise ValueError(
            f"data.dataset={name} needs data.root: the folder that holds (or will hold, with data.download=true) "
            "the torchvision copy of the dataset"
        )
    return Path(root).expanduser().resolve()


def require_files(name: str, root: Path, download: bool, needed: list[Path], layout: list[str]) -> None:
    """Fail early, before torchvision touches the disk, when files are missing and downloading is off."""
    missing = [path for path in needed if not path.exists()]
    if missing and not download:
        lines = "\n  ".join(f"{root}/{line}" for line in layout)
        raise FileNotFoundError(
            f"{name} not found under data.root={root} (missing {missing[0]}).\n"
            f"Expected layout:\n  {lines}\n"
            "Set data.download=true (needs network access) to let torchvision fetch it, or place the files there."
        )


def build(name: str, root: Path, make: Callable[[], T]) -> T:
    """``make()`` (a torchvision dataset constructor), its failures re-raised naming the dataset and folder."""
    try:
        return make()
    except (RuntimeError, OSError, ValueError, KeyError) as error:
        raise RuntimeError(f"torchvision could not load or download {name} under {root}: {error}") from error


def existing(records: list[ImageRecord], name: str) -> list[ImageRecord]:
    """Drop records whose file is absent (a partial copy; Caltech-101 counts stray files as images), with a warning.

    Only existence is checked here, which is cheap for thousands of files; decoding is left to the split and
    to the stages that read images (see ``dalda.data.splits``).
    """
    kept = [record for record in records if Path(record.path).is_file()]
    if len(kept) < len(records):
        first = next(record.path for record in records if not Path(record.path).is_file())
        missing = len(records) - len(kept)
        logger.warning("%s: %d listed image files are missing and skipped, e.g. %s", name, missing, first)
    return kept
