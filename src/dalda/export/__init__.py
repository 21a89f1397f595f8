"""``dalda export RUN``: a run's real and synthetic training images in the two forms other tools load.

``OUT/imagefolder/`` is a torchvision ``ImageFolder``: one folder per class named ``<label>_<name>`` with the
label zero-padded (``000_cat``, ``001_ant``), so the alphabetical order torchvision (and ``datasets``'
``imagefolder``) gives the folders is dalda's label order, and ``class_to_idx`` maps every image to the label
dalda trained with. Real images keep their file's suffix (``real_<index>_<name>``), synthetic ones are
``synthetic_<row_id>.png``. ``OUT/hf/`` is a ``datasets.Dataset`` (``save_to_disk``) with the images embedded,
``label`` a ``ClassLabel`` with dalda's class names and one row of metadata per image (``synthetic``, prompt,
λ, seed, source index, CLIPScore group); ``OUT/README.md`` is its dataset card (method, config, counts, the
source data's licence). ``push_to_hub`` uploads the dataset and card to the Hub (needs network and a token).

The export never overwrites: ``OUT`` must not exist yet (or be empty). It reads the run only through
``dalda.artefacts``.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dalda.artefacts import ManifestLine, Split
from dalda.config import DaldaConfig, config_to_yaml
from dalda.datasets import DATASETS
from dalda.extras import require
from dalda.io import atomic_open, write_text_atomic
from dalda.ownership import refuse_inside_data
from dalda.rundir import RunDir

logger = logging.getLogger(__name__)

IMAGEFOLDER = "imagefolder"
HF = "hf"
CARD = "README.md"


@dataclass(frozen=True)
class ExportedImage:
    """One image of the export: where it went, its dalda label, and its metadata row."""

    file: Path
    label: int
    synthetic: bool
    row: dict[str, Any]


@dataclass(frozen=True)
class ExportSummary:
    out: Path
    classes: list[str]
    real: int
    synthetic: int

    @property
    def imagefolder(self) -> Path:
        return self.out / IMAGEFOLDER

    @property
    def hf(self) -> Path:
        return self.out / HF


def class_folder(label: int, name: str, num_classes: int) -> str:
    """``<label>_<name>`` with the label zero-padded to the class count, e.g. ``007_Bengal``; the name is made
    filesystem-safe (anything but ASCII letters, digits, ``.``, ``-``, ``_`` becomes ``_``)."""
    width = max(3, len(str(max(num_classes - 1, 0))))
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "class"
    return f"{label:0{width}d}_{slug}"


def _copy(source: Path, target: Path) -> None:
    with open(source, "rb") as reader, atomic_open(target, "wb") as writer:
        shutil.copyfileobj(reader, writer)


def _check_out(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FileExistsError(f"{out} already exists and is not empty; choose another --out (export never overwrites)")


def _images(run: RunDir, split: Split, out: Path) -> Iterator[ExportedImage]:
    folders = [class_folder(label, name, len(split.classes)) for label, name in enumerate(split.classes)]
    root = out / IMAGEFOLDER
    for index, record in enumerate(split.train):
        source = Path(record.path)
        if not source.is_file():
            raise FileNotFoundError(f"{source} (real image {index} of {run.split}) is missing; restore it to export")
        target = root / folders[record.label] / f"real_{index:06d}_{source.name}"
        _copy(source, target)
        yield ExportedImage(target, record.label, False, {"source_index": index})
    if not run.manifest.is_file():
        logger.warning("no synthetic images in %s (no %s): exporting the real images only", run.root, run.manifest)
        return
    for line in ManifestLine.read_all(run):
        image = line.image_path(run.synthetic)
        if line.label is None or not image.is_file():
            logger.warning("skipped %s: %s", line.file_name, "no label" if line.label is None else "file missing")
            continue
        target = root / folders[line.label] / f"synthetic_{line.row_id if line.row_id is not None else 0:06d}.png"
        _copy(image, target)
        yield ExportedImage(
            target,
            line.label,
            True,
            {
                "source_index": line.source_index,
                "prompt": line.prompt,
                "ip_scale": line.ip_scale,
                "strength": line.strength,
                "seed": line.seed,
                "group": line.group,
                "generator": line.generator,
            },
        )


def _datasets() -> Any:
    """The ``datasets`` package (the ``hub`` extra)."""
    return require("datasets", "hub", "dalda export")


def hf_features(classes: list[str]) -> Any:
    """The ``datasets.Features`` of the export: the image, a ``ClassLabel`` in dalda's order, the metadata."""
    datasets = _datasets()
    Value = datasets.Value
    return datasets.Features(
        {
            "image": datasets.Image(),
            "label": datasets.ClassLabel(names=list(classes)),
            "synthetic": Value("bool"),
            "file_name": Value("string"),
            "source_index": Value("int64"),
            "prompt": Value("string"),
            "ip_scale": Value("float64"),
            "strength": Value("float64"),
            "seed": Value("int64"),
            "group": Value("string"),
            "generator": Value("string"),
        }
    )


def _hf_rows(images: list[ExportedImage], out: Path) -> Iterator[dict[str, Any]]:
    keys = ("source_index", "prompt", "ip_scale", "strength", "seed", "group", "generator")
    for image in images:
        name = image.file.relative_to(out / IMAGEFOLDER).as_posix()
        yield {
            "image": {"bytes": image.file.read_bytes(), "path": name},
            "label": image.label,
            "synthetic": image.synthetic,
            "file_name": name,
            **{key: image.row.get(key) for key in keys},
        }


def dataset_card(config: DaldaConfig, split: Split, counts: Counter[str], method: str) -> str:
    """The dataset card (``README.md``): YAML header with the class names, then how the images were made."""
    spec = DATASETS.get(split.dataset) if split.dataset in DATASETS else None
    licence = (spec.licence if spec else None) or "unknown: state the licence of your source images before sharing"
    names = "\n".join(f"          '{label}': {name!r}" for label, name in enumerate(split.classes))
    return f"""---
dataset_info:
  features:
  - name: image
    dtype: image
  - name: label
    dtype:
      class_label:
        names:
{names}
tags:
- dalda
- synthetic
---

# {spec.title if spec else split.dataset}: real and synthetic few-shot training images (dalda)

Made by dalda from run `{config.out_dir.name if config.out_dir else '.'}`.

- method: `{method}`; generator: `{config.generator.name}`; model profile: `{config.models.profile}`
- dataset: `{split.dataset}`, {len(split.classes)} classes, {split.shots} shots per class, trial {split.trial}
- images: {counts['real']} real, {counts['synthetic']} synthetic (column `synthetic`)
- labels: `label` follows dalda's class order; the `imagefolder/` folders are `<label>_<name>`, so torchvision's
  `ImageFolder` gives the same labels
- licence of the source images: {licence}. Synthetic images are derived from them.

## Config

```yaml
{config_to_yaml(config).rstrip()}
```
"""


def export_run(
    config: DaldaConfig, run: RunDir, out: Path, method: str, push_to_hub: str | None = None
) -> ExportSummary:
    """Write ``out/imagefolder``, ``out/hf`` and ``out/README.md`` for ``run`` (see the module docstring)."""
    datasets = _datasets()
    out = Path(out)
    _check_out(out)
    split = Split.read(run)
    refuse_inside_data(out, Path(split.root) if split.root else config.data.root, "the export folder")
    out.mkdir(parents=True, exist_ok=True)
    images = list(_images(run, split, out))
    counts = Counter("synthetic" if image.synthetic else "real" for image in images)
    card = dataset_card(config, split, counts, method)
    with tempfile.TemporaryDirectory(dir=out, prefix=".cache-") as cache:
        dataset = datasets.Dataset.from_generator(
            _hf_rows, gen_kwargs={"images": images, "out": out}, features=hf_features(split.classes), cache_dir=cache
        )
        dataset.save_to_disk(str(out / HF))
    write_text_atomic(out / CARD, card)
    write_text_atomic(out / HF / CARD, card)
    if push_to_hub:
        upload(out, push_to_hub)
    return ExportSummary(out, list(split.classes), counts["real"], counts["synthetic"])


def upload(out: Path, repo: str) -> None:
    """Push ``out/hf`` and its card to the Hub dataset ``repo`` (the token comes from ``huggingface-cli login``
    or ``HF_TOKEN``, never from a file dalda writes)."""
    hub = require("huggingface_hub", "hub", "dalda export --push-to-hub")
    _datasets().load_from_disk(str(out / HF)).push_to_hub(repo)
    hub.HfApi().upload_file(path_or_fileobj=str(out / CARD), path_in_repo=CARD, repo_id=repo, repo_type="dataset")
