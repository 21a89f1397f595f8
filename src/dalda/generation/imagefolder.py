"""``synthetic/metadata.parquet``: the manifest as Hugging Face ``imagefolder`` metadata, ``label`` a ``ClassLabel``.

``datasets`` takes the column types of an ``imagefolder`` from its metadata file. A JSON-lines file can only
say that ``label`` is an integer; a Parquet file written by ``datasets`` carries its ``Features`` in the file
itself. So the generate stage writes this file beside the images, and
``datasets.load_dataset("imagefolder", data_dir=RUN/synthetic)`` (or ``load_dataset(RUN/synthetic)``) gives
``label`` as a ``ClassLabel`` with dalda's class names in dalda's order, next to every manifest column (prompt,
λ, seed, source, generation settings).

The manifest (``synthetic/manifest.jsonl``) stays the record the stage appends to, resumes from and every
stage reads; this file is derived from it whenever the manifest is consolidated (``consolidate`` in
``dalda.generation.manifest``: at the start and at the end of every ``dalda generate``), written atomically, and
removed when the manifest holds no image. It therefore never names an image the manifest lacks. The filter's
and a person's decisions are not in it (``synthetic/filter.jsonl``, ``synthetic/curation.jsonl``); ``dalda
export`` writes the kept set.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from dalda.artefacts import ManifestLine, Split, table_rows
from dalda.io import atomic_open
from dalda.rundir import RunDir

logger = logging.getLogger(__name__)


def class_names(run: RunDir, lines: Sequence[ManifestLine]) -> list[str] | None:
    """dalda's class names in label order: the split's; for a plan made by hand (no ``split.json``), the
    manifest's own ``class_name`` per label when they name every label from 0 on; else None."""
    if run.split.is_file():
        return list(Split.read(run).classes)
    named = {line.label: line.class_name for line in lines if line.label is not None and line.class_name}
    if not named or set(named) != set(range(len(named))):
        return None
    return [named[label] for label in range(len(named))]  # type: ignore[misc]


def write_imagefolder_metadata(run: RunDir, lines: Sequence[ManifestLine]) -> None:
    """Write :attr:`RunDir.imagefolder_metadata` for the manifest ``lines`` (removed when there are none).

    The manifest is already written when this runs, so a view that cannot be made (``datasets`` missing from a
    hand-made environment, a column whose values no table type holds) costs no image: the stale view is removed
    and a warning says why, instead of failing a stage that may have run for hours."""
    target = run.imagefolder_metadata
    if not lines:
        target.unlink(missing_ok=True)
        return
    try:
        _write(run, lines)  # replaces the view in one rename: a reader never finds it missing or half-written
    except ImportError as error:
        target.unlink(missing_ok=True)
        logger.warning("%s not written: %s (pip install 'datasets>=3.4', then rerun dalda generate)", target, error)
    except (TypeError, ValueError) as error:  # pyarrow's ArrowInvalid and ArrowTypeError are among these
        target.unlink(missing_ok=True)
        logger.warning("%s not written: the manifest's columns do not make one table (%s)", target, error)


def _write(run: RunDir, lines: Sequence[ManifestLine]) -> None:
    import datasets  # a core dependency, imported here so that starting dalda stays cheap

    target = run.imagefolder_metadata
    with _quiet(datasets):
        table = datasets.Dataset.from_list(table_rows(lines))
        names = class_names(run, lines)
        labels = {line.label for line in lines if line.label is not None}
        if names is not None and labels <= set(range(len(names))) and "label" in table.column_names:
            table = table.cast_column("label", datasets.ClassLabel(names=names))
        else:
            logger.warning(
                "%s: label stays an integer (no class list covers the labels: run `dalda data` for split.json)", target
            )
        with atomic_open(target, "wb") as handle:
            table.to_parquet(handle)


@contextmanager
def _quiet(datasets: Any) -> Iterator[None]:
    """Without ``datasets``' own progress bars (casting, writing): a bar per consolidation would only clutter
    every plain log."""
    was_disabled = datasets.utils.are_progress_bars_disabled()
    datasets.utils.disable_progress_bars()
    try:
        yield
    finally:
        if not was_disabled:
            datasets.utils.enable_progress_bars()
