"""Putting a freshly built report in place without touching files dalda did not write.

A report is built in a new hidden sibling folder of ``report/`` and only then moved in. ``report/manifest.json``
(:class:`dalda.artefacts.ReportManifest`) says which files dalda wrote there, also for reports made by earlier
versions, and only those files are ever replaced or deleted:

- no ``report/`` yet, or one holding only dalda's files: the old folder is renamed away, the new one renamed in,
  the old one deleted (a crash leaves either report whole, plus a hidden leftover folder);
- ``report/`` also holds a user's files: dalda's old files are deleted one by one and the new ones moved in
  beside the user's files, which stay untouched;
- a ``report/`` folder without dalda's manifest but with files in it, or a user's file where the new report
  would write one, is refused with a message saying what to move.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from dalda.artefacts import REPORT_MANIFEST, ReportManifest
from dalda.io import temporary_folder


def fresh_folder(dest: Path) -> Path:
    """A new empty hidden folder beside ``dest`` to build the next report in."""
    return temporary_folder(dest.parent, prefix=f".{dest.name}.new-")


def _files_under(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*") if not path.is_dir()}


def install(work: Path, dest: Path) -> None:
    """Move the report built in ``work`` to ``dest``, replacing only dalda's own earlier files (see module doc)."""
    new_files = _files_under(work)
    present = _files_under(dest) if dest.is_dir() else set()
    owned: set[str] = set()
    if present:
        try:
            owned = ReportManifest.read(dest).written_files()
        except (OSError, ValueError):
            shutil.rmtree(work, ignore_errors=True)
            raise FileExistsError(
                f"{dest} holds files that dalda did not write (no readable {REPORT_MANIFEST} of a dalda report); "
                f"move them out of {dest} and run the report again"
            ) from None
    foreign = present - owned
    clash = sorted(foreign & new_files)
    if clash:
        shutil.rmtree(work, ignore_errors=True)
        raise FileExistsError(
            f"{dest / clash[0]} was not written by dalda but the report writes a file of that name; "
            "move or rename it and run the report again"
        )
    if not foreign:
        old = dest.parent / f".{dest.name}.old-{os.getpid()}"
        if dest.exists():
            os.replace(dest, old)
        os.replace(work, dest)
        shutil.rmtree(old, ignore_errors=True)
        return
    for name in sorted(owned & present):
        (dest / name).unlink(missing_ok=True)
    for name in sorted(new_files):
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        os.replace(work / name, dest / name)
    shutil.rmtree(work, ignore_errors=True)
