"""A user's own dataset laid out as ``root/<class>/<image>`` (torchvision's ImageFolder convention).

If ``root`` holds a training folder (``train``, ``training``, ...) plus evaluation folders (``test``, ``val``,
``validation``, ...) and nothing else, in any case (``Train/`` + ``Test/``), they are the trainval and official
test splits, and the log says which layout and folders were used; otherwise ``root`` itself is
the class folder and there is no test split. Paths are resolved, link loops and non-regular files (a FIFO
named ``x.jpg``) are skipped with a warning, and so is any folder that is a dalda run directory (it carries the
run marker): dalda's outputs never become inputs. Hidden files
and folders (names starting with ".", e.g. macOS "._x.jpg" copies, ".ipynb_checkpoints") are ignored; images
in sub-folders of a class folder belong to that class. A class name is its folder name with underscores as
spaces. There is no built-in description: the LLM backends need ``data.description`` or
``data.description_file``, and the config needs ``data.root``.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from dalda.datasets.records import DatasetIndex, ImageRecord, sorted_records
from dalda.datasets.spec import DatasetSpec
from dalda.rundir import RunDir
from dalda.settings import NoSettings

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm")


def folder_name(folder: str) -> str:
    """Readable name of a class folder: underscores become spaces, nothing else changes."""
    return folder.replace("_", " ").strip()


def _class_folders(root: Path) -> list[str]:
    return sorted(entry.name for entry in os.scandir(root) if entry.is_dir() and not entry.name.startswith("."))


def _is_regular_file(path: Path) -> bool:
    """True for a regular file (after following links); a FIFO, socket, device or broken link is False.

    Checked with ``stat`` before anything opens the file: opening a FIFO named ``x.jpg`` would block forever.
    """
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def _images_under(folder: Path) -> list[Path]:
    """Every image file under ``folder`` as a resolved path, each file once.

    Links to folders are followed, but a folder already visited (by its device and inode) is not entered
    again, so a link loop (``cat/loop -> .``) is refused with a warning instead of walked 40 levels deep; a
    link to a file already found is counted once. Entries that are not regular files are skipped with a warning.
    """
    found: dict[Path, None] = {}
    visited: set[tuple[int, int]] = set()
    for directory, subdirs, files in os.walk(folder, followlinks=True):
        info = os.stat(directory)
        if (info.st_dev, info.st_ino) in visited:
            log.warning("skipping %s: a link back to a folder already indexed (a link loop)", directory)
            subdirs[:] = []
            continue
        visited.add((info.st_dev, info.st_ino))
        if RunDir(Path(directory)).marker.is_file():
            log.warning("skipping %s: a dalda run directory; its images are dalda's outputs, not real ones", directory)
            subdirs[:] = []
            continue
        subdirs[:] = sorted(name for name in subdirs if not name.startswith("."))
        for name in sorted(files):
            if name.startswith(".") or not name.lower().endswith(IMAGE_EXTENSIONS):
                continue
            path = Path(directory, name)
            if not _is_regular_file(path):
                log.warning("skipping %s: not a regular file (a FIFO, device, socket or broken link)", path)
                continue
            found.setdefault(path.resolve(), None)
    return list(found)


def scan_image_folder(root: Path) -> tuple[list[str], list[ImageRecord]]:
    """Class folder names (sorted) and every image under them; a missing, empty or image-less folder is an error."""
    root = Path(root).expanduser().resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"image folder {root} does not exist; expected {root}/<class>/<image>")
    folders = _class_folders(root)
    if not folders:
        raise ValueError(f"image folder {root} has no class sub-folders; expected {root}/<class>/<image>")
    records: list[ImageRecord] = []
    owner: dict[Path, str] = {}
    for label, name in enumerate(folders):
        images = _images_under(root / name)
        if not images:
            raise ValueError(
                f"class folder {root / name} holds no images with extensions {', '.join(IMAGE_EXTENSIONS)}; "
                "add images or remove the folder"
            )
        for path in images:
            if path in owner:
                raise ValueError(
                    f"image {path} is in class folder {owner[path]!r} and (through a link) in {name!r}; "
                    "one image cannot belong to two classes: remove the link or the copy"
                )
            owner[path] = name
        records.extend(ImageRecord(path=path, label=label) for path in images)
    return folders, sorted_records(records)


TRAIN_FOLDERS = ("train", "training", "trainval", "train_val")
"""Names of the training folder of a split layout (compared ignoring case)."""
EVAL_FOLDERS = ("test", "testing", "val", "valid", "validation", "eval", "evaluation", "dev")
"""Names of the evaluation folder of a split layout ``root/<train>`` + ``root/<one of these>`` (compared ignoring
case), in order of preference."""


def split_layout(root: Path) -> tuple[Path, Path | None] | None:
    """(train folder, evaluation folder or None) when ``root`` is a split layout, else None.

    ``root`` is a split layout when exactly one folder in it is named like a training folder
    (:data:`TRAIN_FOLDERS`) and every other (non-hidden) folder like an evaluation folder (:data:`EVAL_FOLDERS`),
    whatever their case (``Train/`` + ``Test/``, ``training/`` + ``Validation/``); so a dataset with a class called
    "train" among other classes is still read as classes.
    """
    folders = _class_folders(root)
    trains = [name for name in folders if name.lower() in TRAIN_FOLDERS]
    evals = [name for name in folders if name.lower() in EVAL_FOLDERS]
    if len(trains) != 1 or len(trains) + len(evals) != len(folders):
        return None
    evals.sort(key=lambda name: EVAL_FOLDERS.index(name.lower()))
    if len(evals) > 1:
        log.warning("%s has %s; using %s/ as the test split, the others are not used", root, evals, evals[0])
    return root / trains[0], (root / evals[0] if evals else None)


def load_imagefolder(root: Path | None, download: bool, cache_dir: Path, settings: NoSettings) -> DatasetIndex:
    """Index ``root`` (``download`` and ``cache_dir`` are unused: a user's folder is never fetched or copied)."""
    if root is None:
        raise ValueError("data.dataset=imagefolder needs data.root pointing to a folder root/<class>/<image>")
    root = Path(root).expanduser().resolve()
    if not root.is_dir():
        what = "is not a folder" if root.exists() else "does not exist"
        raise FileNotFoundError(f"image folder data.root={root} {what}; expected {root}/<class>/<image>")
    layout = split_layout(root)
    if layout is None:
        log.info("imagefolder layout: %s/<class>/<image> (class folders), no official test split", root)
        folders, trainval = scan_image_folder(root)
        test = None
    else:
        train_dir, test_dir = layout
        log.info(
            "imagefolder layout: split folders, trainval from %s, official test split from %s",
            train_dir,
            test_dir or "(none)",
        )
        folders, trainval = scan_image_folder(train_dir)
        test = None
        if test_dir is not None:
            test_folders, test = scan_image_folder(test_dir)
            if test_folders != folders:
                raise ValueError(
                    f"{train_dir} and {test_dir} must hold the same class folders; only in {train_dir.name}: "
                    f"{sorted(set(folders) - set(test_folders))}, only in {test_dir.name}: "
                    f"{sorted(set(test_folders) - set(folders))}"
                )
    return DatasetIndex(name="imagefolder", classes=[folder_name(f) for f in folders], trainval=trainval, test=test)


# Titled by its config name in reports, as it always was: the folder could hold anything.
IMAGEFOLDER = DatasetSpec(
    name="imagefolder", title="imagefolder", description=None, load=load_imagefolder, needs_root=True
)
