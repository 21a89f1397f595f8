"""A user's own dataset laid out as ``root/<class>/<image>`` (torchvision's ImageFolder convention).

If ``root/train`` and ``root/test`` are both class folders with the same classes, they are the trainval and
official test splits; otherwise ``root`` itself is the class folder and there is no test split. Hidden files
and folders (names starting with ".", e.g. macOS "._x.jpg" copies, ".ipynb_checkpoints") are ignored; images
in sub-folders of a class folder belong to that class. A class name is its folder name with underscores as
spaces. There is no built-in description: the LLM backends need ``data.description`` or
``data.description_file``, and the config needs ``data.root``.
"""

from __future__ import annotations

import os
from pathlib import Path

from dalda.datasets.records import DatasetIndex, ImageRecord, sorted_records
from dalda.datasets.spec import DatasetSpec

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm")


def folder_name(folder: str) -> str:
    """Readable name of a class folder: underscores become spaces, nothing else changes."""
    return folder.replace("_", " ").strip()


def _class_folders(root: Path) -> list[str]:
    return sorted(entry.name for entry in os.scandir(root) if entry.is_dir() and not entry.name.startswith("."))


def _images_under(folder: Path) -> list[Path]:
    found: list[Path] = []
    for directory, subdirs, files in os.walk(folder, followlinks=True):
        subdirs[:] = [name for name in subdirs if not name.startswith(".")]
        found.extend(
            Path(directory, name)
            for name in files
            if not name.startswith(".") and name.lower().endswith(IMAGE_EXTENSIONS)
        )
    return found


def scan_image_folder(root: Path) -> tuple[list[str], list[ImageRecord]]:
    """Class folder names (sorted) and every image under them; a missing, empty or image-less folder is an error."""
    root = Path(root).expanduser().resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"image folder {root} does not exist; expected {root}/<class>/<image>")
    folders = _class_folders(root)
    if not folders:
        raise ValueError(f"image folder {root} has no class sub-folders; expected {root}/<class>/<image>")
    records: list[ImageRecord] = []
    for label, name in enumerate(folders):
        images = _images_under(root / name)
        if not images:
            raise ValueError(
                f"class folder {root / name} holds no images with extensions {', '.join(IMAGE_EXTENSIONS)}; "
                "add images or remove the folder"
            )
        records.extend(ImageRecord(path=path, label=label) for path in images)
    return folders, sorted_records(records)


def load_imagefolder(root: Path | None, download: bool, cache_dir: Path) -> DatasetIndex:
    """Index ``root`` (``download`` and ``cache_dir`` are unused: a user's folder is never fetched or copied)."""
    if root is None:
        raise ValueError("data.dataset=imagefolder needs data.root pointing to a folder root/<class>/<image>")
    root = Path(root).expanduser().resolve()
    train_dir, test_dir = root / "train", root / "test"
    if train_dir.is_dir() and test_dir.is_dir():
        folders, trainval = scan_image_folder(train_dir)
        test_folders, test = scan_image_folder(test_dir)
        if test_folders != folders:
            raise ValueError(
                f"{train_dir} and {test_dir} must hold the same class folders; only in train: "
                f"{sorted(set(folders) - set(test_folders))}, only in test: {sorted(set(test_folders) - set(folders))}"
            )
    else:
        folders, trainval = scan_image_folder(root)
        test = None
    return DatasetIndex(name="imagefolder", classes=[folder_name(f) for f in folders], trainval=trainval, test=test)


# Titled by its config name in reports, as it always was: the folder could hold anything.
IMAGEFOLDER = DatasetSpec(
    name="imagefolder", title="imagefolder", description=None, load=load_imagefolder, needs_root=True
)
