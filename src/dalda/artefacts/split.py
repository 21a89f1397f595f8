"""``split.json``: the few-shot training images and the evaluation images of one run.

Only the data stage draws a split (:func:`dalda.data.splits.make_split`); every other stage reads it here, so
all stages of a run see the same images and no stage but ``dalda data`` ever writes this file.
"""

from __future__ import annotations

import filecmp
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dalda.artefacts.record import JsonRecord
from dalda.io import write_json_atomic
from dalda.config import DataConfig
from dalda.rundir import RunDir


@dataclass(frozen=True)
class ImageRecord:
    """One image on disk and its class, as an index into the dataset's ``classes``."""

    path: Path
    label: int


def stored_path(path: Path, base: Path) -> str:
    """``path`` as ``split.json`` stores it: relative to ``base`` (the data root, or the run directory for data
    materialised inside it) with POSIX separators, so the run and the data can each be moved or copied; absolute
    only when the image lies outside ``base``. Symlinks are tried both unresolved and resolved."""
    for image, folder in ((os.path.abspath(path), os.path.abspath(base)), (Path(path).resolve(), Path(base).resolve())):
        try:
            relative = os.path.relpath(image, folder)
        except ValueError:  # another drive
            continue
        if relative != ".." and not relative.startswith(".." + os.sep) and not os.path.isabs(relative):
            return Path(relative).as_posix()
    return Path(os.path.abspath(path)).as_posix()


def _records_to_json(records: list[ImageRecord], base: Path | None) -> list[dict[str, Any]]:
    return [
        {"path": stored_path(r.path, base) if base is not None else Path(os.path.abspath(r.path)).as_posix(), "label": r.label}
        for r in records
    ]


@dataclass
class Split(JsonRecord):
    """The few-shot training images and the evaluation images of one (dataset, shots, trial) run."""

    WHAT = "split"
    MADE_BY = "data"

    dataset: str
    classes: list[str]
    shots: int
    trial: int
    eval_split: str
    train: list[ImageRecord]
    eval: list[ImageRecord]
    max_eval_per_class: int | None = None
    root: str | None = None
    """The resolved ``data.root`` the split was drawn from (None: a built-in dataset without one, or a split
    written before roots were recorded, which is then not checked)."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Keys a newer version wrote, kept and written back last."""

    @classmethod
    def file(cls, run: RunDir) -> Path:
        return run.split

    def warnings(self) -> list[str]:
        """What makes this split's accuracy meaningless or partial: one class only, classes with no evaluation
        image. The data stage logs these loudly and the results repeat them (``warnings``)."""
        notes = []
        if len(self.classes) < 2:
            notes.append(
                f"the dataset has {len(self.classes)} class: every classifier is trivially 100% accurate; "
                "add at least one more class folder"
            )
        evaluated = {record.label for record in self.eval}
        missing = [name for label, name in enumerate(self.classes) if label not in evaluated]
        if missing:
            notes.append(
                f"{len(missing)} class(es) have no evaluation image ({', '.join(repr(n) for n in missing[:5])}"
                + (", ..." if len(missing) > 5 else "")
                + "): accuracy says nothing about them; add images of those classes"
            )
        return notes

    def base(self, run_root: Path) -> Path:
        """What the stored image paths are relative to: the recorded data root, else the run directory."""
        return Path(self.root) if self.root is not None else Path(run_root)

    def rebased(self, old: Path, new: Path) -> Split:
        """The split with every image below ``old`` moved below ``new`` (a moved data root or run directory)."""

        def move(record: ImageRecord) -> ImageRecord:
            relative = stored_path(record.path, old)
            return record if os.path.isabs(relative) else replace(record, path=Path(new) / relative)

        return replace(self, train=[move(r) for r in self.train], eval=[move(r) for r in self.eval])

    @classmethod
    def read(cls, source: RunDir | Path) -> Split:
        """The split with its image paths absolute: stored relative ones are joined to :meth:`base` (the run
        directory is the one the file is in now, so a copied run finds its own data)."""
        split = super().read(source)
        run_root = cls.path_of(source).parent
        base = split.base(run_root)

        def absolute(record: ImageRecord) -> ImageRecord:
            return record if record.path.is_absolute() else replace(record, path=base / record.path)

        return replace(split, train=[absolute(r) for r in split.train], eval=[absolute(r) for r in split.eval])

    def write(self, target: RunDir | Path) -> None:
        """Written with image paths relative to :meth:`base` (see :func:`stored_path`)."""
        write_json_atomic(self.path_of(target), self.to_json(self.base(self.path_of(target).parent)))

    def to_json(self, base: Path | None = None) -> dict[str, Any]:
        """The file's object; image paths relative to ``base`` where they lie below it (absolute without one)."""
        return {
            "dataset": self.dataset,
            "classes": self.classes,
            "shots": self.shots,
            "trial": self.trial,
            "eval_split": self.eval_split,
            "max_eval_per_class": self.max_eval_per_class,
            "root": self.root,
            "train": _records_to_json(self.train, base),
            "eval": _records_to_json(self.eval, base),
            **self.extra,
        }

    @classmethod
    def from_json(cls, payload: Any, where: object = "a JSON record") -> Split:
        """A split written by :meth:`write`; a malformed one names itself."""
        try:
            return cls(
                dataset=str(payload["dataset"]),
                classes=[str(name) for name in payload["classes"]],
                shots=int(payload["shots"]),
                trial=int(payload["trial"]),
                eval_split=str(payload["eval_split"]),
                train=[ImageRecord(Path(r["path"]), int(r["label"])) for r in payload["train"]],
                eval=[ImageRecord(Path(r["path"]), int(r["label"])) for r in payload["eval"]],
                max_eval_per_class=payload.get("max_eval_per_class"),
                root=payload.get("root"),
                extra={key: value for key, value in payload.items() if key not in _KEYS},
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ValueError(
                f"split file {where} is malformed ({type(error).__name__}: {error}); delete it and rerun"
            ) from None


_KEYS = ("dataset", "classes", "shots", "trial", "eval_split", "max_eval_per_class", "root", "train", "eval")


def data_root(data: DataConfig) -> str | None:
    """The config's ``data.root`` as recorded in ``split.json``: resolved, or None when unset."""
    return None if data.root is None else str(Path(data.root).expanduser().resolve())


def check_split_matches(split: Split, data: DataConfig, path: Path) -> Split:
    """A reused split must be the one the config asks for (dataset, shots, trial, evaluation protocol); return it
    with its images where they are now.

    A different ``data.root`` is the same data moved (``-s data.root=NEW``) when the split's images lie at the
    same places below it and, where the old copy still exists, are the same files (:func:`_same_files`): the
    split is then rebased onto it and all work stays valid. Otherwise, or when none of the images is on disk,
    one line names the root to set. The root is compared only when the split recorded one
    (files written before it was recorded still load).
    """
    wanted = {
        "dataset": data.dataset,
        "shots": data.shots,
        "trial": data.trial,
        "eval_split": data.eval_split,
        "max_eval_per_class": data.max_eval_per_class,
    }
    for field, value in wanted.items():
        if getattr(split, field) != value:
            raise ValueError(
                f"{path} was drawn with {field}={getattr(split, field)!r} but the config asks for {value!r}; "
                "use another --out directory for a different split, or delete split.json to redraw"
            )
    new_root = data_root(data)
    if split.root is not None and new_root is not None and split.root != new_root:
        moved = replace(split.rebased(Path(split.root), Path(new_root)), root=new_root)
        missing = _missing(moved)
        if missing:
            raise ValueError(
                f"{path} was drawn from data.root={split.root}, and data.root={new_root} does not hold its images "
                f"({missing} is missing); set -s data.root= to the folder that now holds them"
            )
        if _missing(split) is None and not _same_files(split, moved):
            raise ValueError(
                f"{path} was drawn from data.root={split.root} but the config asks for data.root={new_root}, which "
                "holds other images under the same names; use another --out directory for another dataset folder, "
                "or delete split.json to redraw"
            )
        return moved
    missing = _missing(split)
    if missing:
        where = f"data.root={split.root}" if split.root is not None else f"the run directory {path.parent}"
        raise FileNotFoundError(
            f"{path}: none of the split's real images is on disk (e.g. {missing}; they lie below {where}); if the "
            "data moved, set -s data.root= to the folder that now holds them"
        )
    return split


def _same_files(old: Split, new: Split) -> bool:
    """Whether two copies of the split's images are the same data: the training images byte for byte (a few-shot
    set: few files), the evaluation images by size."""
    pairs = zip(old.train, new.train, strict=True)
    if not all(filecmp.cmp(a.path, b.path, shallow=False) for a, b in pairs if a.path.exists() and b.path.exists()):
        return False
    return all(
        a.path.stat().st_size == b.path.stat().st_size
        for a, b in zip(old.eval, new.eval, strict=True)
        if a.path.exists() and b.path.exists()
    )


def _missing(split: Split) -> Path | None:
    """The first training image when none of them is on disk (the data moved, or a partial copy lost it); a few
    missing images are left to the stages that read them, which name each one."""
    paths = [record.path for record in split.train]
    return paths[0] if paths and not any(path.exists() for path in paths) else None


def read_split_for(data: DataConfig, run: RunDir) -> Split:
    """The run's split, checked against the config's data section and rebased onto a moved data root; stages
    other than ``data`` call this."""
    return check_split_matches(Split.read(run), data, run.split)


def source_base(data: DataConfig, run: RunDir) -> Path:
    """Where the run's real images lie now: ``data.root``, else the run directory (data materialised in it)."""
    root = data_root(data)
    return Path(root) if root is not None else run.root
