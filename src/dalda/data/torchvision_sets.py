"""The paper's three datasets, read through torchvision's dataset classes.

torchvision knows each dataset's archive layout, its official splits and how to download it; we take only the
file paths and labels from its dataset objects and give the classes readable names (``class_names``).

Split choices: Pets trainval = the official "trainval" list, test = "test"; Flowers102 trainval = the official
"train" + "val" lists, test = "test"; Caltech-101 has no official split, so trainval is every image and there is
no test split.

Nothing is downloaded unless ``data.download`` is true; a missing dataset is an error that shows the folder
layout expected under ``data.root``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from dalda.config import DataConfig
from dalda.data.class_names import caltech101_name, flowers102_names
from dalda.data.records import DatasetIndex, ImageRecord, sorted_records

T = TypeVar("T")

logger = logging.getLogger(__name__)

_FLOWERS_MAT_FILES = ("imagelabels.mat", "setid.mat")


def _root(cfg: DataConfig, name: str) -> Path:
    if cfg.root is None:
        raise ValueError(
            f"data.dataset={name} needs data.root: the folder that holds (or will hold, with data.download=true) "
            "the torchvision copy of the dataset"
        )
    return Path(cfg.root).expanduser().resolve()


def _require(cfg: DataConfig, name: str, root: Path, needed: list[Path], layout: list[str]) -> None:
    """Fail early, before torchvision touches the disk, when files are missing and downloading is off."""
    missing = [path for path in needed if not path.exists()]
    if missing and not cfg.download:
        lines = "\n  ".join(f"{root}/{line}" for line in layout)
        raise FileNotFoundError(
            f"{name} not found under data.root={root} (missing {missing[0]}).\n"
            f"Expected layout:\n  {lines}\n"
            "Set data.download=true (needs network access) to let torchvision fetch it, or place the files there."
        )


def _build(name: str, root: Path, make: Callable[[], T]) -> T:
    try:
        return make()
    except (RuntimeError, OSError, ValueError, KeyError) as error:
        raise RuntimeError(f"torchvision could not load or download {name} under {root}: {error}") from error


def _existing(records: list[ImageRecord], name: str) -> list[ImageRecord]:
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


def load_pets(cfg: DataConfig, cache_dir: Path) -> DatasetIndex:
    """Oxford-IIIT Pet: 37 breeds ("Abyssinian", "American Bulldog", ...) from torchvision's class names."""
    from torchvision.datasets import OxfordIIITPet

    root = _root(cfg, "pets")
    base = root / "oxford-iiit-pet"
    _require(
        cfg,
        "Oxford-IIIT Pet",
        root,
        [base / "images", base / "annotations" / "trainval.txt", base / "annotations" / "test.txt"],
        [
            "oxford-iiit-pet/images/<Breed_name>_<n>.jpg",
            "oxford-iiit-pet/annotations/trainval.txt",
            "oxford-iiit-pet/annotations/test.txt",
        ],
    )
    splits = {
        split: _build("Oxford-IIIT Pet", root, lambda s=split: OxfordIIITPet(root, split=s, download=cfg.download))
        for split in ("trainval", "test")
    }
    classes = list(splits["trainval"].classes)
    if list(splits["test"].classes) != classes:
        raise ValueError(f"{base}/annotations: trainval.txt and test.txt list different breeds; re-download the set")
    records = {
        split: sorted_records(
            _existing([ImageRecord(Path(p), int(y)) for p, y in zip(ds._images, ds._labels, strict=True)], "pets")
        )
        for split, ds in splits.items()
    }
    return DatasetIndex(name="pets", classes=classes, trainval=records["trainval"], test=records["test"])


def load_caltech101(cfg: DataConfig, cache_dir: Path) -> DatasetIndex:
    """Caltech-101: 101 categories, every image in trainval, no test split (names per ``class_names``)."""
    from torchvision.datasets import Caltech101

    root = _root(cfg, "caltech101")
    categories_dir = root / "caltech101" / "101_ObjectCategories"
    _require(
        cfg,
        "Caltech-101",
        root,
        [categories_dir, categories_dir / "BACKGROUND_Google"],
        [
            "caltech101/101_ObjectCategories/<category>/image_0001.jpg, image_0002.jpg, ...",
            "caltech101/101_ObjectCategories/BACKGROUND_Google/ (torchvision expects it; it is not a class)",
        ],
    )
    ds = _build("Caltech-101", root, lambda: Caltech101(root, target_type="category", download=cfg.download))
    folder = Path(ds.root) / "101_ObjectCategories"
    records = [
        ImageRecord(folder / ds.categories[y] / f"image_{number:04d}.jpg", int(y))
        for number, y in zip(ds.index, ds.y, strict=True)
    ]
    classes = [caltech101_name(category) for category in ds.categories]
    trainval = sorted_records(_existing(records, "caltech101"))
    return DatasetIndex(name="caltech101", classes=classes, trainval=trainval, test=None)


def load_flowers102(cfg: DataConfig, cache_dir: Path) -> DatasetIndex:
    """Oxford Flowers-102: trainval = official train + val, test = official test, names from torchvision's list."""
    from torchvision.datasets import Flowers102

    class _PresentFlowers102(Flowers102):
        """torchvision's Flowers102 minus the MD5 check of the two .mat files when they are already present.

        A user-placed or re-saved copy with the same content is accepted; downloads are still verified by
        torchvision's ``download_url``. A damaged .mat file still fails, in ``scipy.io.loadmat``.
        """

        def _check_integrity(self) -> bool:
            base = Path(self._base_folder)
            return self._images_folder.is_dir() and all((base / name).is_file() for name in _FLOWERS_MAT_FILES)

    root = _root(cfg, "flowers102")
    base = root / "flowers-102"
    _require(
        cfg,
        "Oxford Flowers-102",
        root,
        [base / "jpg", *(base / name for name in _FLOWERS_MAT_FILES)],
        [
            "flowers-102/jpg/image_00001.jpg, image_00002.jpg, ...",
            *(f"flowers-102/{name}" for name in _FLOWERS_MAT_FILES),
        ],
    )

    def records(split: str) -> list[ImageRecord]:
        ds = _build("Oxford Flowers-102", root, lambda: _PresentFlowers102(root, split=split, download=cfg.download))
        listed = [ImageRecord(Path(p), int(y)) for p, y in zip(ds._image_files, ds._labels, strict=True)]
        return _existing(listed, "flowers102")

    trainval = sorted_records(records("train") + records("val"))
    test = sorted_records(records("test"))
    return DatasetIndex(name="flowers102", classes=flowers102_names(), trainval=trainval, test=test)
