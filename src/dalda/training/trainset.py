"""The training images of a run: the split's real images plus the synthetic images made from each of them.

Synthetic images come from the generation manifest (``synthetic/manifest.jsonl``). Each row is tied to its
real image by ``source_path`` (the real image's path as written in ``split.json``), not by list position, so a
manifest stays valid however the split's list is ordered. Rows are skipped, with a warning and a count in the
results, when their file is missing (an interrupted generation) or their real image is not in this split; a
manifest none of whose rows belong to the split is an error (it was made for another split). Without a
manifest the run trains on real images only and says so.

When the filter stage ran, its decisions (``synthetic/filter.jsonl``, ``dalda.artefacts.FilterRecord``) leave out
the images it rejected. A decision counts only for the bytes it judged: an image generated again since the filter
ran is used, with a warning to run ``dalda filter`` again.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dalda.artefacts import CurationRecord, FilterRecord, ManifestLine, Split, kept_by_person
from dalda.datasets import ImageRecord
from dalda.hashing import file_sha256
from dalda.rundir import RunDir
from dalda.training.sampling import TrainingPool, build_pool

log = logging.getLogger(__name__)


def _path_key(path: str | Path) -> str:
    return str(Path(path).expanduser().resolve())


@dataclass
class TrainingSet:
    """Real images (items 0..R-1) and synthetic images (items R..), with the real image each came from."""

    real: list[ImageRecord]
    synthetic_paths: list[Path]
    synthetic_sources: list[int]
    synthetic_source: str
    """Where the synthetic images came from: the manifest path, or why there are none."""
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def pool(self) -> TrainingPool:
        return build_pool([record.label for record in self.real], self.synthetic_sources)

    @property
    def item_paths(self) -> list[Path]:
        return [Path(record.path) for record in self.real] + list(self.synthetic_paths)

    def describe(self) -> dict[str, Any]:
        with_synthetic = len(set(self.synthetic_sources))
        return {
            "num_train_real": len(self.real),
            "num_synthetic": len(self.synthetic_paths),
            "real_images_with_synthetic": with_synthetic,
            "real_images_without_synthetic": len(self.real) - with_synthetic,
            "synthetic_source": self.synthetic_source,
            "manifest_rows_skipped": dict(self.skipped),
        }


def load_training_set(split: Split, run: RunDir, use_synthetic: bool = True) -> TrainingSet:
    """Real images of ``split`` and, if ``use_synthetic`` and a manifest exists, their synthetic images."""
    real = list(split.train)
    if not use_synthetic:
        return TrainingSet(real, [], [], "none (train.synthetic_probability=0)")
    if not run.manifest.exists():
        log.warning("no synthetic manifest at %s: training on real images only", run.manifest)
        return TrainingSet(real, [], [], f"none (no manifest at {run.manifest})")

    index = {_path_key(record.path): i for i, record in enumerate(real)}
    rows = ManifestLine.read_all(run)
    decisions = FilterRecord.by_image(run)
    curated = CurationRecord.by_image(run)
    unjudged = 0
    paths: list[Path] = []
    sources: list[int] = []
    skipped: Counter[str] = Counter()
    for number, row in enumerate(rows, start=1):
        source_path = row.source_path
        if source_path is None:
            raise ValueError(f"{run.manifest} line {number} has no 'source_path' field; regenerate the manifest")
        source = index.get(_path_key(row.source_file(run.root) or source_path))
        if source is None:
            skipped["source_not_in_split"] += 1
            continue
        if row.label is not None and int(row.label) != real[source].label:
            raise ValueError(
                f"{run.manifest} line {number}: label {row.label} but its real image {source_path} has label "
                f"{real[source].label}; the manifest does not belong to this split"
            )
        path = row.image_path(run.synthetic)
        if not path.is_file():
            skipped["file_missing"] += 1
            continue
        person = kept_by_person(curated, row.file_name, path)  # a person's decision overrides the filter's
        if person is False:
            skipped["rejected_by_person"] += 1
            continue
        decision = decisions.get(row.file_name)
        if person:
            pass
        elif decision is not None and decision.sha256 == file_sha256(path):
            if not decision.kept:
                skipped["rejected_by_filter"] += 1
                continue
        elif decisions:
            unjudged += 1
        paths.append(path)
        sources.append(source)
    if rows and not paths and skipped["source_not_in_split"] == len(rows):
        raise ValueError(
            f"none of the {len(rows)} rows of {run.manifest} comes from a real image of {run.split}; the synthetic "
            "images were made for another split: regenerate them or use another run directory"
        )
    for reason, count in skipped.items():
        log.warning("skipped %d manifest rows of %s: %s", count, run.manifest, reason.replace("_", " "))
    if unjudged:
        log.warning(
            "%d synthetic images were made after %s was written and are used unjudged; run `dalda filter` again",
            unjudged, run.filter_decisions,
        )  # fmt: skip
    return TrainingSet(real, paths, sources, str(run.manifest), dict(skipped))
