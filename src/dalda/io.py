"""Crash-safe file writes shared by every stage.

Every stage writes plain files a user can load with common tools (JSON, JSONL, PNG). A write goes to a
temporary file in the same folder and is renamed into place, so a crash never leaves a half-written file
under the final name. Every text written here passes through key redaction (:mod:`dalda.redact`).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from filelock import FileLock, Timeout

from dalda.redact import redact_known

_UMASK = os.umask(0)
os.umask(_UMASK)


def temporary_folder(parent: Path, prefix: str, suffix: str = "") -> Path:
    """A new empty folder in ``parent`` to build something in before it is renamed into place; created with the
    permissions ``mkdir`` would give (``mkdtemp`` makes 0700, which would stay on the renamed folder)."""
    Path(parent).mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=prefix, suffix=suffix, dir=parent))
    folder.chmod(0o777 & ~_UMASK)
    return folder


@contextmanager
def atomic_open(path: Path, mode: str = "w") -> Iterator[IO[Any]]:
    """Open a temporary sibling of ``path`` for writing; rename it over ``path`` only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600; a result file gets the permissions open() would give
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except OSError as error:  # a full disk or a quota: the error names the file it was writing
        Path(tmp_name).unlink(missing_ok=True)
        if error.filename is not None:
            raise
        raise OSError(error.errno, f"{error.strerror or error} while writing", str(path)) from None
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` atomically, with every remembered API key masked (:func:`dalda.redact.redact_known`)."""
    with atomic_open(path, "w") as handle:
        handle.write(redact_known(text))


def write_json_atomic(path: Path, payload: Any) -> None:
    write_text_atomic(path, json.dumps(payload, indent=2, ensure_ascii=False, sort_keys=False) + "\n")


def write_jsonl_atomic(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    """Write a whole JSONL file at once (one object per line, keys in insertion order)."""
    write_text_atomic(path, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))


def append_jsonl(path: Path, row: dict[str, Any]) -> None:
    """Append one complete line and fsync it, so a line is either fully present or absent."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(redact_known(json.dumps(row, ensure_ascii=False)) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def read_json(path: Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Read a JSONL file; a torn last line (a crash mid-append) is ignored, earlier bad lines are errors."""
    path = Path(path)
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            if number == len(lines):
                break
            raise ValueError(f"{path}:{number} is not valid JSON; fix or delete that line") from None
    return rows


def file_lock(path: Path) -> FileLock:
    """An inter-process lock held on ``path`` (a lock file, created if missing and never deleted).

    The operating system drops the lock when its holder exits, killed or not, so a lock is held only by a live
    process. Use as ``with file_lock(p):``; on a shared filesystem this needs working ``flock`` (NFSv4, Lustre,
    GPFS and BeeGFS provide it).
    """
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return FileLock(str(path))


def lock_is_held(path: Path) -> bool:
    """Whether a live process holds the lock on ``path`` (a missing lock file: nobody does)."""
    if not Path(path).exists():
        return False
    probe = FileLock(str(path))
    try:
        probe.acquire(timeout=0)
    except Timeout:
        return True
    probe.release()
    return False
