"""``dalda export RUN``: a run's training and evaluation images as a dataset other tools load as dalda saw them.

``OUT`` is a Hub dataset repository on disk: ``README.md`` (the card, :mod:`dalda.export.card`) and
``data/train-*.parquet`` / ``data/test-*.parquet``, written by ``datasets`` with the images embedded, so
``datasets.load_dataset(OUT)`` (or the Hub repo after ``--push-to-hub``) gives a ``train`` split (the real
few-shot images and the synthetic ones training used) and a ``test`` split (the run's evaluation images), with
``label`` a ``ClassLabel`` in dalda's class order and every column of the manifest (:data:`NOT_EXPORTED` aside). ``OUT/imagefolder/{train,test}/``
holds the same images as files, one folder per class named after it (:mod:`dalda.export.names`), for
torchvision's ``ImageFolder``, whose alphabetical label order may differ from dalda's: ``OUT/classes.json`` and
the card's ``ClassLabel`` hold dalda's.

Exported pixels are those dalda trained on (:mod:`dalda.export.pictures`). Synthetic images the filter rejected
are left out unless ``include_rejected``, which adds them with a ``kept`` column. The export is written into a
temporary folder beside ``OUT`` and renamed into place when complete, so a failed export leaves nothing behind
and never blocks a retry; an existing ``OUT`` is never overwritten, except that an export dalda completed there
(``.dalda-export.json``) is pushed again as it is. The run is read only through ``dalda.artefacts``.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dalda.artefacts import ClassNames, CurationRecord, FilterRecord, ManifestLine, Split, kept_by_person, table_rows
from dalda.config import DaldaConfig
from dalda.export.card import FilterState, dataset_card
from dalda.export.hub import upload
from dalda.export.names import class_folders, safe_name
from dalda.export.pictures import export_real, export_synthetic
from dalda.hashing import file_sha256
from dalda.io import write_json_atomic, write_text_atomic
from dalda.ownership import refuse_inside_data
from dalda.rundir import RunDir

logger = logging.getLogger(__name__)

NOT_EXPORTED = frozenset({"file_name", "label", "source_path", "filter"})
"""Manifest columns the export leaves out: its own ``file_name`` and ``label`` replace the first two,
``source_path`` names a file on the machine that made the run (``source_index`` says which real image it is),
and ``filter``, a column early versions wrote, is what ``kept`` and the card say now."""
OWN_COLUMNS = ("image", "label", "synthetic", "kept", "file_name")
"""The columns the export makes itself (``kept`` only with ``include_rejected``); the rest come from the rows."""
IMAGEFOLDER = "imagefolder"
CARD = "README.md"
MARKER = ".dalda-export.json"
SPLITS = ("train", "test")


@dataclass(frozen=True)
class ExportedImage:
    """One image of the export: its file, split, dalda label and metadata."""

    file: Path
    split: str
    label: int
    synthetic: bool
    row: dict[str, Any]


@dataclass(frozen=True)
class ExportSummary:
    out: Path
    classes: list[str]
    real: int
    synthetic: int
    test: int

    @property
    def imagefolder(self) -> Path:
        return self.out / IMAGEFOLDER


def hf_features(classes: list[str], include_rejected: bool, metadata: dict[str, Any] | None = None) -> Any:
    """The ``datasets.Features`` of both splits: the image, a ``ClassLabel`` in dalda's order, whether it is
    synthetic (and kept), its file, the real image it was made from, then the synthetic images' ``metadata``
    columns (:func:`metadata_features`)."""
    import datasets  # a core dependency, imported here so that starting dalda stays cheap

    Value = datasets.Value
    columns: dict[str, Any] = {
        "image": datasets.Image(),
        "label": datasets.ClassLabel(names=list(classes)),
        "synthetic": Value("bool"),
    }
    if include_rejected:
        columns["kept"] = Value("bool")
    columns |= {"file_name": Value("string"), "source_index": Value("int64")}
    return datasets.Features(columns | {k: v for k, v in (metadata or {}).items() if k not in columns})


def metadata_features(synthetic: list[ExportedImage]) -> dict[str, Any]:
    """The feature of each manifest column the synthetic images carry, as ``datasets`` infers it from the values
    (``null`` for a column no image fills, e.g. ``strength`` for a generator that takes none)."""
    import datasets

    rows = [{k: v for k, v in image.row.items() if k != "kept"} for image in synthetic]
    return dict(datasets.Dataset.from_list(rows).features) if rows else {}


def _check_out(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FileExistsError(f"{out} already exists and is not empty; choose another --out (export never overwrites)")


def _real(split: Split, run: RunDir, root: Path, folders: list[str]) -> Iterator[ExportedImage]:
    for name, records in (("train", split.train), ("test", split.eval)):
        for index, record in enumerate(records):
            source = Path(record.path)
            if not source.is_file():
                raise FileNotFoundError(f"{source} ({name} image {index} of {run.split}) is missing; restore it")
            stem = safe_name(source.stem, "image")
            target = root / IMAGEFOLDER / name / folders[record.label] / f"real_{index:06d}_{stem}.png"
            export_real(source, target)
            yield ExportedImage(target, name, record.label, False, {"source_index": index if name == "train" else None})


def _synthetic(
    run: RunDir, root: Path, folders: list[str], include_rejected: bool
) -> tuple[list[ExportedImage], FilterState]:
    decisions = FilterRecord.by_image(run)
    curated = CurationRecord.by_image(run)
    images: list[ExportedImage] = []
    tally: Counter[str] = Counter()
    if not run.manifest.is_file():
        logger.warning("no synthetic images in %s (no %s): exporting the real images only", run.root, run.manifest)
    lines = ManifestLine.read_all(run, missing_ok=True)
    for line, columns in zip(lines, table_rows(lines)):
        image = line.image_path(run.synthetic)
        if line.label is None or not image.is_file():
            logger.warning("skipped %s: %s", line.file_name, "no label" if line.label is None else "file missing")
            continue
        decision = decisions.get(line.file_name)
        person = kept_by_person(curated, line.file_name, image)  # a person's decision overrides the filter's
        judged = person is not None or (decision is not None and decision.sha256 == file_sha256(image))
        # training uses images made after the filter ran, so they count as kept
        kept = person if person is not None else (not judged or decision.kept)  # type: ignore[union-attr]
        tally["kept" if judged and kept else "rejected" if judged else "unjudged"] += 1
        if not kept and not include_rejected:
            continue
        row_id = line.row_id if line.row_id is not None else len(images)
        target = root / IMAGEFOLDER / "train" / folders[line.label] / f"synthetic_{row_id:06d}.png"
        export_synthetic(image, target)
        row = {"kept": kept} | {key: value for key, value in columns.items() if key not in NOT_EXPORTED}
        images.append(ExportedImage(target, "train", line.label, True, row))
    state = FilterState(bool(decisions), tally["kept"], tally["rejected"], tally["unjudged"], include_rejected)
    return images, state


def _rows(
    images: list[ExportedImage], root: Path, include_rejected: bool, keys: tuple[str, ...]
) -> Iterator[dict[str, Any]]:
    for image in images:
        name = image.file.relative_to(root / IMAGEFOLDER).as_posix()
        row = {"image": {"bytes": image.file.read_bytes(), "path": name}, "label": image.label}
        row["synthetic"] = image.synthetic
        if include_rejected:
            row["kept"] = image.row.get("kept", True)
        yield row | {"file_name": name} | {key: image.row.get(key) for key in keys}


def _write(
    config: DaldaConfig, run: RunDir, root: Path, method: str, include_rejected: bool
) -> tuple[Split, Counter[str]]:
    import datasets  # a core dependency, imported here so that starting dalda stays cheap

    split = Split.read(run)
    folders = class_folders(split.classes)
    real = list(_real(split, run, root, folders))
    synthetic, filtered = _synthetic(run, root, folders, include_rejected)
    features = hf_features(split.classes, include_rejected, metadata_features(synthetic))
    keys = tuple(name for name in features if name not in OWN_COLUMNS)
    images = real + synthetic
    (root / "data").mkdir()
    for name in SPLITS:
        chosen = [image for image in images if image.split == name]
        with tempfile.TemporaryDirectory(dir=root, prefix=".cache-") as cache:
            dataset = datasets.Dataset.from_generator(
                _rows, gen_kwargs={"images": chosen, "root": root, "include_rejected": include_rejected, "keys": keys},
                features=features, cache_dir=cache,
            ) if chosen else datasets.Dataset.from_list([], features=features)
            dataset.to_parquet(str(root / "data" / f"{name}-00000-of-00001.parquet"))
    counts = Counter(
        "test" if image.split == "test" else "train_synthetic" if image.synthetic else "train_real" for image in images
    )
    write_text_atomic(root / CARD, dataset_card(config, split, features, counts, method, filtered))
    ClassNames(list(split.classes)).write(root / "classes.json")
    write_json_atomic(root / MARKER, {"run": str(run.root.resolve()), "folders": folders})
    return split, counts


def export_run(
    config: DaldaConfig,
    run: RunDir,
    out: Path,
    method: str,
    push_to_hub: str | None = None,
    include_rejected: bool = False,
) -> ExportSummary:
    """Write the export of ``run`` to ``out`` (see the module docstring) and push it if ``push_to_hub``."""
    out = Path(out)
    if push_to_hub and (out / MARKER).is_file():
        logger.warning("%s holds a finished export: pushing it as it is (delete it to export afresh)", out)
        upload(out, push_to_hub)
        return _summary_of(out)
    _check_out(out)
    split_root = Split.read(run).root
    refuse_inside_data(out, Path(split_root) if split_root else config.data.root, "the export folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.partial-"))
    try:
        split, counts = _write(config, run, staging, method, include_rejected)
        if out.is_dir():
            out.rmdir()  # empty (checked above)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)  # dalda made it a moment ago
        raise
    if push_to_hub:
        upload(out, push_to_hub)
    return ExportSummary(out, list(split.classes), counts["train_real"], counts["train_synthetic"], counts["test"])


def _summary_of(out: Path) -> ExportSummary:
    """The summary of a finished export, counted from its files."""
    classes = ClassNames.read(out / "classes.json").names
    files = [path.name for path in (out / IMAGEFOLDER).rglob("*.png")]
    test = sum(1 for _ in (out / IMAGEFOLDER / "test").rglob("*.png"))
    synthetic = sum(name.startswith("synthetic_") for name in files)
    return ExportSummary(out, classes, len(files) - synthetic - test, synthetic, test)


__all__ = ["ExportSummary", "export_run", "hf_features", "upload"]
