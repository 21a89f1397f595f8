"""dalda from Python: the config, ``run`` (the pipeline), and an :class:`Augmenter` for images in memory.

Everything here is also exported from ``dalda`` itself::

    import dalda

    config = dalda.load_config(None, ["models.profile=tiny", "out_dir=runs/notebook"])
    augmenter = dalda.Augmenter(config)
    made = augmenter.augment(images, labels, class_names=["cat", "dog"])   # PIL images and int labels
    made[0].image, made[0].prompt, made[0].ip_scale, made[0].seed, made[0].source_index

The augmenter runs the pipeline's own stages (score, prompts, plan, generate; those the config's method uses)
in ``config.out_dir``: the given images are saved there as the run's few-shot set (``inputs/``, and a
``split.json`` holding them all as training images), so a call is resumable and leaves an ordinary run
directory behind (``dalda export``, ``dalda report`` work on it). A run directory already holding other
images is never reused: choose another ``out_dir``.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from dalda.artefacts import ImageRecord, ManifestLine, Split
from dalda.config import DaldaConfig
from dalda.configure import build_config, load_config
from dalda.images import load_rgb, to_rgb
from dalda.io import atomic_open
from dalda.ownership import claim
from dalda.pipeline import run_pipeline, stages_for
from dalda.rundir import RunDir

__all__ = ["Augmenter", "DaldaConfig", "SyntheticImage", "load_config", "run"]

AUGMENT_STAGES = ("score", "prompts", "plan", "generate")
INPUTS = "inputs"


def run(config: DaldaConfig, stages: Sequence[str] | None = None) -> RunDir:
    """Run the pipeline (by default every stage the config's method needs) in ``config.out_dir``, as
    ``dalda run`` does; returns the run directory."""
    return run_pipeline(config, list(stages) if stages else None)


@dataclass(frozen=True)
class SyntheticImage:
    """One generated image and how it was made."""

    image: Image.Image
    label: int
    class_name: str
    prompt: str | None
    ip_scale: float | None
    """λ, the image prompt's weight (None for generators without one)."""
    seed: int | None
    source_index: int
    """Position of the real image it was made from, in the input order."""
    path: Path
    """The file in the run directory."""


class Augmenter:
    """Scores, plans and generates synthetic images for few labelled images with a dalda config."""

    def __init__(self, config: DaldaConfig | None = None) -> None:
        self.config = config or load_config()

    def augment(
        self, images: Sequence[Image.Image], labels: Sequence[int], class_names: Sequence[str]
    ) -> list[SyntheticImage]:
        """Synthetic images for ``images`` (PIL) labelled ``labels`` (indices into ``class_names``)."""
        if len(images) != len(labels):
            raise ValueError(f"augment: {len(images)} images but {len(labels)} labels; give one label per image")
        names = [str(name) for name in class_names]
        bad = [label for label in labels if not 0 <= int(label) < len(names)]
        if bad:
            raise ValueError(
                f"augment: labels {sorted(set(bad))[:5]} are not indices into the {len(names)} class_names"
            )
        if not images:
            raise ValueError("augment: no images given")
        run = claim(Path(self.config.out_dir))  # refuses a folder dalda did not make
        counts = Counter(int(label) for label in labels)
        records = _save_inputs(run, images, labels)
        config = build_config(
            self.config.model_dump(mode="json"),
            [
                "data.dataset=imagefolder",
                f"data.root={run.root / INPUTS}",
                f"data.shots={max(counts.values())}",
            ],
        )
        split = Split(
            config.data.dataset, names, config.data.shots, config.data.trial, config.data.eval_split, records, [],
            config.data.max_eval_per_class,
        )
        _write_or_check_split(run, split)
        stages = [name for name in stages_for(config) if name in AUGMENT_STAGES]
        run_pipeline(config, stages)
        return _made(run, names)

    def augment_dataset(
        self,
        dataset: Any,
        image_column: str = "image",
        label_column: str = "label",
        class_names: Sequence[str] | None = None,
    ) -> list[SyntheticImage]:
        """Synthetic images for a ``datasets.Dataset`` with an image and a label column; class names come from
        a ``ClassLabel`` label column unless given."""
        for column in (image_column, label_column):
            if column not in dataset.column_names:
                raise ValueError(f"augment_dataset: no column {column!r}; the dataset has {dataset.column_names}")
        if class_names is None:
            names = getattr(dataset.features[label_column], "names", None)
            if not names:
                raise ValueError(
                    f"augment_dataset: column {label_column!r} is not a ClassLabel; pass class_names=[...]"
                )
            class_names = names
        return self.augment(list(dataset[image_column]), list(dataset[label_column]), class_names)


def _save_inputs(run: RunDir, images: Sequence[Image.Image], labels: Sequence[int]) -> list[ImageRecord]:
    """Each image as ``inputs/<label>/<index>.png``; an existing file must hold the same pixels (a resumed call)."""
    records = []
    for index, (image, label) in enumerate(zip(images, labels)):
        path = (run.root / INPUTS / f"{int(label):03d}" / f"{index:06d}.png").resolve()
        encoded = io.BytesIO()
        to_rgb(image).save(encoded, format="PNG")  # as the command line decodes a file (dalda.images)
        if path.is_file():
            if path.read_bytes() != encoded.getvalue():
                raise ValueError(f"{path} holds another image; set out_dir to a new directory for other images")
        else:
            with atomic_open(path, "wb") as handle:
                handle.write(encoded.getvalue())
        records.append(ImageRecord(path, int(label)))
    return records


def _write_or_check_split(run: RunDir, split: Split) -> None:
    if run.split.is_file():
        before = Split.read(run)
        if (before.classes, before.train) != (split.classes, split.train):
            raise ValueError(
                f"{run.root} already holds a run with other images or classes; set out_dir to a new directory"
            )
        return
    split.write(run)


def _made(run: RunDir, names: list[str]) -> list[SyntheticImage]:
    made = []
    for line in ManifestLine.read_all(run):
        path = line.image_path(run.synthetic)
        pixels = load_rgb(path)
        label = int(line.label if line.label is not None else 0)
        made.append(
            SyntheticImage(
                pixels, label, names[label], line.prompt, line.ip_scale, line.seed, int(line.source_index or 0), path
            )
        )
    return made
