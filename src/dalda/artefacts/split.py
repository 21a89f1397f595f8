"""``split.json``: the few-shot training images and the evaluation images of one run.

Only the data stage draws a split (:func:`dalda.data.splits.make_split`); every other stage reads it here, so
all stages of a run see the same images and no stage but ``dalda data`` ever writes this file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dalda.artefacts.record import JsonRecord
from dalda.config import DataConfig
from dalda.rundir import RunDir


@dataclass(frozen=True)
class ImageRecord:
    """One image on disk and its class, as an index into the dataset's ``classes``."""

    path: Path
    label: int


def _records_to_json(records: list[ImageRecord]) -> list[dict[str, Any]]:
    return [{"path": str(Path(r.path).resolve()), "label": r.label} for r in records]


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

    def to_json(self) -> dict[str, Any]:
        """The file's object: image paths absolute, so every stage finds the images wherever it runs."""
        return {
            "dataset": self.dataset,
            "classes": self.classes,
            "shots": self.shots,
            "trial": self.trial,
            "eval_split": self.eval_split,
            "max_eval_per_class": self.max_eval_per_class,
            "root": self.root,
            "train": _records_to_json(self.train),
            "eval": _records_to_json(self.eval),
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


def check_split_matches(split: Split, data: DataConfig, path: Path) -> None:
    """A reused split must be the one the config asks for (dataset, root, shots, trial, evaluation protocol).

    The root is compared only when the split recorded one (files written before it was recorded still load).
    """
    if split.root is not None and split.root != data_root(data):
        raise ValueError(
            f"{path} was drawn from data.root={split.root} but the config asks for data.root={data_root(data)}; "
            "use another --out directory for another dataset folder, or delete split.json to redraw"
        )
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


def read_split_for(data: DataConfig, run: RunDir) -> Split:
    """The run's split, checked against the config's data section; stages other than ``data`` call this."""
    split = Split.read(run)
    check_split_matches(split, data, run.split)
    return split
