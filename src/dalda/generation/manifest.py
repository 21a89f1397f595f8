"""The synthetic set on disk: where each image goes, its manifest line, and crash-safe resuming.

Layout (Hugging Face ``imagefolder``, so ``datasets.load_dataset("imagefolder", data_dir=synthetic)`` loads it)::

    synthetic/
      metadata.jsonl                 one line per finished image, sorted by row_id
      <class dir>/<row_id:06d>.png   class dir = class_dir(class_name), e.g. "American Bulldog" -> American_Bulldog
      .parts/part-<rank>.jsonl       only while several processes run (hidden: datasets ignores it)

Each manifest line holds ``file_name`` (relative to ``synthetic/``), ``label`` (the integer class index, as in
the plan and split; imagefolder keeps a metadata ``label`` as is instead of inferring one from folder names),
``class_name``, the row's plan fields (``source_path`` relative to the run directory) and the generator's
settings that decide the pixels (``Generator.manifest_settings``; empty mappings left out, so the metadata
converts to Parquet). ``synthetic/classes.json`` holds the class names in label order.

Crash safety: an image is written to a temporary name and renamed (``dalda.io.atomic_open``); its manifest
line is appended (one fsynced line) only after that. A row counts as done when its line holds every column of
the line this run would write for it with the same value (same plan row, same pixel-deciding settings) and its
file opens and verifies. A column a stored line has beyond those decides nothing today and is ignored: e.g. the
IP-Adapter a DA-Fusion line recorded before each generator recorded only its own settings. A line an earlier
version wrote, with an absolute ``source_path`` or an empty mapping, counts too; it is rewritten in today's
form. ``consolidate`` merges the manifest with any per-process parts, drops everything else (torn lines, stale
rows, missing or broken files), and rewrites the manifest atomically, so killing a run at any moment and
rerunning ends with every row exactly once.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

from PIL import Image

from dalda.io import atomic_open, read_jsonl, write_jsonl_atomic
from dalda.artefacts import PlanRow, parquet_safe, run_relative
from dalda.rundir import RunDir

logger = logging.getLogger(__name__)

PARTS_DIR = ".parts"
_OWN_TEMPORARY = re.compile(r"^\.(metadata\.jsonl|\d{6,}\.png)\.[A-Za-z0-9_]+\.tmp$")
"""The temporary names ``dalda.io.atomic_open`` gives the manifest and the images: the only temporaries that
cleanup deletes (a user's own ``.notes.tmp`` in ``synthetic/`` stays)."""


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


def manifest_entry(row: PlanRow, settings: dict[str, Any], run_root: Path | None = None) -> dict[str, Any]:
    """The manifest line of a finished row (also what a resumed run expects to find for it); ``settings`` are
    the generator's ``manifest_settings``, the settings that decide the pixels besides the row. With
    ``run_root``, ``source_path`` is written relative to it."""
    return parquet_safe({
        "file_name": relative_image_path(row),
        "label": row.label,
        "class_name": row.class_name,
        "row_id": row.row_id,
        "source_path": row.source_path if run_root is None else run_relative(row.source_path, run_root),
        "source_index": row.source_index,
        "m": row.m,
        "prompt": row.prompt,
        "ip_scale": row.ip_scale,
        "generator": row.generator,
        "strength": row.strength,
        "clipscore": row.clipscore,
        "group": row.group,
        "seed": row.seed,
        **settings,
    })


def _comparable(line: dict[str, Any], run_root: Path) -> dict[str, Any]:
    """A line in a form where today's line and the same line from an earlier version are equal."""
    line = parquet_safe(line)
    source = line.get("source_path")
    if isinstance(source, str):
        line["source_path"] = os.path.normpath(os.path.join(os.path.abspath(run_root), source))
    return line


def _same_image(stored: dict[str, Any], wanted: dict[str, Any], run_root: Path) -> bool:
    """Whether ``stored`` holds every column of ``wanted`` with the same value (a column missing from an older line
    reads as null; its other columns decide nothing)."""
    have, want = _comparable(stored, run_root), _comparable(wanted, run_root)
    return all(have.get(key) == value for key, value in want.items())


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


def _stored_lines(run: RunDir) -> list[dict[str, Any]]:
    lines = read_jsonl(run.manifest)
    parts = run.synthetic / PARTS_DIR
    if parts.is_dir():
        for part in sorted(parts.glob("part-*.jsonl")):
            lines.extend(read_jsonl(part))
    return lines


def _remove_leftovers(run: RunDir) -> None:
    """Delete per-process parts and temporary files a killed run left behind (call when no process writes);
    only dalda's own names are deleted, and ``.parts/`` only once it is empty."""
    parts = run.synthetic / PARTS_DIR
    if parts.is_dir():
        for part in parts.glob("part-[0-9][0-9][0-9][0-9].jsonl"):
            part.unlink()
        if not any(parts.iterdir()):
            parts.rmdir()
    for pattern in (f".{run.manifest.name}.*.tmp", "*/.[0-9]*.png.*.tmp"):
        for temporary in run.synthetic.glob(pattern):
            if _OWN_TEMPORARY.match(temporary.name):
                temporary.unlink(missing_ok=True)


def consolidate(run: RunDir, expected: dict[int, dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Rewrite the manifest with exactly the finished rows, one line each, sorted by row id; return them.

    ``expected`` maps every plan row id to the line this run would write. A stored line counts only if it
    holds its row's expected line (:func:`_same_image`) and the image file verifies; anything else is dropped
    (with a log line saying how many) so the row is generated again. Must run while no other process writes.
    """
    done: dict[int, dict[str, Any]] = {}
    dropped = 0
    for line in _stored_lines(run):
        row_id = line.get("row_id")
        if row_id in done:
            continue
        wanted = expected.get(row_id)
        if (
            wanted is None
            or not _same_image(line, wanted, run.root)
            or not image_is_readable(run.synthetic / line["file_name"])
        ):
            dropped += 1
            continue
        done[row_id] = wanted
    if dropped:
        logger.info(
            "manifest: dropped %d lines (torn, stale, or whose image is missing or unreadable); "
            "their rows are generated again",
            dropped,
        )
    run.synthetic.mkdir(parents=True, exist_ok=True)
    write_jsonl_atomic(run.manifest, (done[row_id] for row_id in sorted(done)))
    _remove_leftovers(run)
    return done


def finished_row_ids(run: RunDir) -> set[int]:
    """Row ids in the (consolidated) manifest."""
    return {line["row_id"] for line in read_jsonl(run.manifest)}
