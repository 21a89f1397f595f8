"""The synthetic set on disk: where each image goes, its manifest line, and crash-safe resuming.

Layout (Hugging Face ``imagefolder``, so ``datasets.load_dataset("imagefolder", data_dir=synthetic)`` loads it)::

    synthetic/
      manifest.jsonl                 one line per finished image, sorted by row_id
      metadata.parquet               the same lines as imagefolder metadata, label a ClassLabel (``imagefolder``)
      <class dir>/<row_id:06d>.png   class dir = class_dir(class_name), e.g. "American Bulldog" -> American_Bulldog
      .parts/part-<rank>.jsonl       only while several processes run (hidden: datasets ignores it)

Each manifest line holds ``file_name`` (relative to ``synthetic/``), ``label`` (the integer class index, as in
the plan and split), ``class_name``, the row's plan fields (``source_path`` relative to the run directory) and
the generator's settings that decide the pixels (``Generator.manifest_settings``; empty mappings left out, so
the lines convert to Parquet). ``synthetic/classes.json`` holds the class names in label order. Runs made before
the manifest took its name keep it in ``synthetic/metadata.jsonl``: it is read there, and ``consolidate``
renames it.

Crash safety: an image is written to a temporary name and renamed (``dalda.io.atomic_open``); its manifest
line is appended (one fsynced line) only after that. A row counts as done when its line identifies the image
this run would make for it and its file opens and verifies. What identifies an image is every column of the
line this run would write: the plan row's fields and the generator's pixel-deciding settings. A column a
stored line has beyond those (the ``filter`` column earlier versions of the filter stage added, anything
another tool wrote) decides nothing and is ignored; a line an earlier version wrote, with an absolute
``source_path`` or an empty mapping, counts too. ``consolidate`` merges the manifest with any per-process
parts, drops everything else (torn lines, stale rows, missing or broken files), and rewrites the manifest
atomically in today's form, so killing a run at any moment and rerunning ends with every row exactly once; it
then rewrites ``metadata.parquet`` from the result. Only the generate stage writes these files.
"""

from __future__ import annotations

import logging
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from dalda.artefacts import ManifestLine, PlanRow, run_relative
from dalda.generation.imagefolder import write_imagefolder_metadata
from dalda.io import atomic_open, read_jsonl
from dalda.rundir import MANIFEST_NAME, RunDir

logger = logging.getLogger(__name__)

PARTS_DIR = ".parts"
_OWN_TEMPORARY = re.compile(r"^\.(manifest\.jsonl|metadata\.jsonl|metadata\.parquet|\d{6,}\.png)\.[A-Za-z0-9_]+\.tmp$")
"""The temporary names ``dalda.io.atomic_open`` gives the manifest (today's name and the earlier one), its
Parquet view and the images: the only temporaries that cleanup deletes (a user's own ``.notes.tmp`` in
``synthetic/`` stays)."""


def class_dir(class_name: str) -> str:
    """Filesystem-safe folder name of a class: runs of characters other than ASCII letters, digits, ``.``,
    ``-`` and ``_`` become one ``_``; leading/trailing ``.``/``_`` are dropped (no hidden folders). Two
    classes may share a folder ("a b", "a_b"); file names stay unique (row ids) and labels come from the
    manifest, so nothing is lost."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", class_name).strip("._")
    return slug or "class"


def relative_image_path(row: PlanRow) -> str:
    """``file_name`` of a row's image, relative to the synthetic folder (POSIX separators, as datasets wants)."""
    return f"{class_dir(row.class_name)}/{row.file_stem}.png"


def manifest_entry(row: PlanRow, settings: dict[str, Any], run_root: Path | None = None) -> ManifestLine:
    """The manifest line of a finished row (also what a resumed run expects to find for it); ``settings`` are
    the generator's ``manifest_settings``, the settings that decide the pixels besides the row. With
    ``run_root``, ``source_path`` is written relative to it."""
    return ManifestLine(
        file_name=relative_image_path(row),
        label=row.label,
        class_name=row.class_name,
        row_id=row.row_id,
        source_path=row.source_path if run_root is None else run_relative(row.source_path, run_root),
        source_index=row.source_index,
        m=row.m,
        prompt=row.prompt,
        ip_scale=row.ip_scale,
        generator=row.generator,
        strength=row.strength,
        clipscore=row.clipscore,
        group=row.group,
        seed=row.seed,
        extra=dict(settings),
    )


def same_source(stored: str | None, wanted: str | None, run_root: Path, source_base: Path | None = None) -> bool:
    """Whether two ``source_path`` values (relative to ``run_root``, or absolute) name the same real image: the same
    file, or, when the data root moved (``-s data.root=NEW``), the same path below the old and the new root
    (``wanted`` lies under ``source_base`` and ``stored`` ends with its path relative to it)."""
    if stored is None or wanted is None:
        return stored == wanted
    have = Path(os.path.normpath(os.path.join(os.path.abspath(run_root), stored)))
    want = Path(os.path.normpath(os.path.join(os.path.abspath(run_root), wanted)))
    if have == want:
        return True
    if source_base is None:
        return False
    try:
        tail = want.relative_to(os.path.abspath(source_base)).parts
    except ValueError:
        return False
    return bool(tail) and have.parts[-len(tail):] == tail


def identifies_same_image(
    stored: ManifestLine, wanted: ManifestLine, run_root: Path, source_base: Path | None = None
) -> bool:
    """Whether ``stored`` is the line of the image ``wanted`` describes: equal in every column ``wanted`` has
    (plan row and pixel-deciding settings; a column missing from an older line reads as null), whatever other
    columns ``stored`` carries. ``source_path`` is compared as the file it names (:func:`same_source`)."""
    return not _changed_columns(stored, wanted, run_root, source_base)


def image_is_readable(path: Path) -> bool:
    """True when ``path`` exists and PIL verifies it (PNG: every chunk present with a matching CRC)."""
    try:
        with Image.open(path) as image:
            image.verify()
        return True
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return False


def write_image_atomic(image: Image.Image, path: Path, compress_level: int = 6) -> None:
    """Save a PNG under a temporary sibling name and rename it into place only once complete."""
    with atomic_open(path, "wb") as handle:
        image.save(handle, format="PNG", compress_level=compress_level)


def part_path(run: RunDir, process_index: int, num_processes: int) -> Path:
    """Where one process appends its lines: the manifest itself when it runs alone, else its own part file
    (several writers never share a file; ``consolidate`` merges the parts)."""
    if num_processes == 1:
        return run.manifest
    return run.synthetic / PARTS_DIR / f"part-{process_index:04d}.jsonl"


def _stored_lines(run: RunDir) -> list[ManifestLine | None]:
    """Every stored line, the manifest's (and the earlier name's, when an older dalda wrote there after the
    manifest was renamed) then the parts'; None for a line that is no manifest line."""
    rows = _rows(run.manifest)
    if run.legacy_manifest.is_file() and run.legacy_manifest != run.manifest:
        rows.extend(_rows(run.legacy_manifest))
    parts = run.synthetic / PARTS_DIR
    if parts.is_dir():
        for part in sorted(parts.glob("part-*.jsonl")):
            rows.extend(_rows(part))
    return rows


def _rows(path: Path) -> list[ManifestLine | None]:
    rows: list[ManifestLine | None] = []
    for number, payload in enumerate(read_jsonl(path), start=1):
        try:
            rows.append(ManifestLine.from_json(payload, f"{path}:{number}"))
        except (ValueError, TypeError):  # not a manifest line: dropped, its row (if any) is made again
            rows.append(None)
    return rows


def _remove_leftovers(run: RunDir) -> None:
    """Delete per-process parts and temporary files a killed run left behind (call when no process writes);
    only dalda's own names are deleted, and ``.parts/`` only once it is empty."""
    parts = run.synthetic / PARTS_DIR
    if parts.is_dir():
        for part in parts.glob("part-[0-9][0-9][0-9][0-9].jsonl"):
            part.unlink()
        if not any(parts.iterdir()):
            parts.rmdir()
    for pattern in (".*.tmp", "*/.[0-9]*.png.*.tmp"):
        for temporary in run.synthetic.glob(pattern):
            if _OWN_TEMPORARY.match(temporary.name):
                temporary.unlink(missing_ok=True)


DISCARD_SHARE = 0.05
"""The share of finished images a command may discard without ``--regenerate`` (a user who deleted a few bad
images to have them remade): beyond it, a changed field or missing files would silently cost GPU hours."""


class RegenerationRefused(RuntimeError):
    """A command would discard more finished images than :data:`DISCARD_SHARE` and ``--regenerate`` was not given."""


MISSING_FILE = "missing or unreadable image file"
"""The discard cause of a finished line whose image is gone or broken."""


@dataclass(frozen=True)
class StoredSorting:
    """What a stored manifest holds for this run's plan: images to keep, finished images to discard (with why)."""

    done: dict[int, ManifestLine]
    discarded: list[tuple[int | None, str]]
    """(row id, cause) of each finished line that is dropped: changed columns, a row no longer planned, a missing
    or unreadable image."""
    torn: int
    """Lines that are no manifest line (a killed run's torn last line): no finished work is lost with them."""

    @property
    def finished(self) -> int:
        return len(self.done) + len(self.discarded)

    def causes(self) -> str:
        """The causes, most frequent first, with counts: "changed prompt, seed (40), missing image file (2)"."""
        counts = Counter(cause for _, cause in self.discarded)
        return ", ".join(f"{cause} ({count})" for cause, count in counts.most_common())


def _changed_columns(stored: ManifestLine, wanted: ManifestLine, run_root: Path, source_base: Path | None) -> list[str]:
    have, want = stored.to_json(), wanted.to_json()
    changed = [key for key, value in want.items() if key != "source_path" and have.get(key) != value]
    if not same_source(stored.source_path, wanted.source_path, run_root, source_base):
        changed.insert(0, "source_path")
    return changed


def sort_stored(run: RunDir, expected: dict[int, ManifestLine], source_base: Path | None = None) -> StoredSorting:
    """Sort every stored line (manifest and parts) into kept and discarded, without writing anything."""
    done: dict[int, ManifestLine] = {}
    discarded: list[tuple[int | None, str]] = []
    torn = 0
    for line in _stored_lines(run):
        if line is None:
            torn += 1
            continue
        if line.row_id in done:
            continue
        wanted = expected.get(line.row_id) if line.row_id is not None else None
        if wanted is None:
            discarded.append((line.row_id, "row no longer in plan.jsonl"))
            continue
        changed = _changed_columns(line, wanted, run.root, source_base)
        if changed:
            discarded.append((line.row_id, "changed " + ", ".join(changed)))
        elif not image_is_readable(run.synthetic / line.file_name):
            discarded.append((line.row_id, MISSING_FILE))
        else:
            done[wanted.row_id] = wanted  # type: ignore[index]
    return StoredSorting(done, discarded, torn)


def check_discard(sorting: StoredSorting, run: RunDir, regenerate: bool, why: str = "") -> None:
    """Say at WARNING level what finished images would be discarded and why; stop (one line, naming the cause)
    when that is more than :data:`DISCARD_SHARE` of them and ``regenerate`` is not set. A single missing or broken
    file is always remade (cheap, and usually a file the user deleted on purpose); a changed setting never is
    silently, however small the run."""
    if not sorting.discarded:
        return
    count, finished = len(sorting.discarded), sorting.finished
    one_lost_file = count == 1 and sorting.discarded[0][1] == MISSING_FILE
    if count > DISCARD_SHARE * finished and not one_lost_file and not regenerate:
        raise RegenerationRefused(
            f"generate would discard {count} of {finished} finished images in {run.synthetic} "
            f"({sorting.causes()}){why}; rerun with --regenerate to remake them, or restore what changed"
        )
    logger.warning(
        "generate: discarding %d of %d finished images in %s (%s)%s; their rows are generated again",
        count, finished, run.synthetic, sorting.causes(), why,
    )  # fmt: skip


def consolidate(
    run: RunDir,
    expected: dict[int, ManifestLine],
    source_base: Path | None = None,
    regenerate: bool = True,
    why: str = "",
) -> dict[int, ManifestLine]:
    """Rewrite the manifest with exactly the finished rows, one line each, sorted by row id; return them.

    ``expected`` maps every plan row id to the line this run would write. A stored line counts only if it
    identifies the same image (:func:`identifies_same_image`) and the image file verifies; anything else is
    dropped so the row is generated again: torn lines quietly, finished images through :func:`check_discard`
    (a warning; with ``regenerate`` False, a refusal beyond :data:`DISCARD_SHARE`, before anything is written).
    ``source_base``: where the split's sources are now (``dalda.artefacts.source_base``), so a moved data root
    still identifies its images. Must run while no other process writes.
    """
    sorting = sort_stored(run, expected, source_base)
    check_discard(sorting, run, regenerate, why)
    if sorting.torn:
        logger.info("manifest: dropped %d torn lines (a killed run's last writes)", sorting.torn)
    run.synthetic.mkdir(parents=True, exist_ok=True)
    lines = [sorting.done[row_id] for row_id in sorted(sorting.done)]
    ManifestLine.write_all(run.synthetic / MANIFEST_NAME, lines)
    run.legacy_manifest.unlink(missing_ok=True)  # its lines are in the manifest now
    write_imagefolder_metadata(run, lines)
    _remove_leftovers(run)
    return sorting.done


def finished_row_ids(run: RunDir) -> set[int]:
    """Row ids in the (consolidated) manifest."""
    return {line.row_id for line in ManifestLine.read_all(run, missing_ok=True) if line.row_id is not None}
