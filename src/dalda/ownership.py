"""What makes a folder dalda's run directory, who may write it now, and what each command did to it.

Three small files at the top of a run directory (`docs/reliability.md`):

- ``.dalda-run.json``, the run marker (dalda version, creation time), written when dalda creates the run
  directory. dalda writes into a folder only when it carries the marker or is empty or new. Familiar file names
  (a ``config.yaml``, a ``split.json``) prove nothing: any other non-empty folder is refused, so ``-o`` pointed at
  a user's folder never adopts, overwrites or deletes anything there.
- ``.dalda-run.lock``, a ``filelock`` lock held by every command that writes the run, with
  ``.dalda-run.owner.json`` (pid, command, start time) beside it, so a second command fails at once naming the
  process that holds the run instead of interleaving with it.
- ``history.jsonl``, an append-only record of each command (argv, overrides, resolved config, start and end
  time, status) and of each stage it finished, with the config that stage ran with. ``config.yaml`` itself is
  replaced only when a command succeeds.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from dalda import __version__
from dalda.artefacts import HistoryLine, LockOwner, RunMarker
from dalda.config import DaldaConfig
from dalda.rundir import RunDir

_HELD: dict[Path, int] = {}
"""Run directories this process holds the lock of, with a nesting count (a command that runs stages, each
of which claims the run again, takes the lock once)."""


class ForeignFolderError(RuntimeError):
    """The output folder holds files and is not a dalda run directory."""


class RunInUseError(RuntimeError):
    """Another process holds the run directory's lock."""


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def is_dalda_run(root: Path) -> bool:
    """True only when ``root`` carries dalda's run marker: a folder is never adopted for the files it holds."""
    return RunDir(Path(root)).marker.is_file()


def refuse_inside_data(folder: Path, data_root: Path | None, what: str) -> None:
    """Refuse an output ``folder`` (``what``: the option that names it) at or inside the dataset folder
    ``data_root``: the next data stage would index dalda's own files (histograms, report figures, synthetic and
    exported images) as real images of a class. Checked before anything is written."""
    if data_root is None:
        return
    data = Path(data_root).expanduser().resolve()
    out = Path(folder).expanduser().resolve()
    if out == data or data in out.parents:
        raise ValueError(
            f"{what} {out} is inside data.root {data}: dalda's outputs would be read back as real images; "
            "choose a folder outside the dataset"
        )


def claim(root: Path) -> RunDir:
    """Make ``root`` dalda's run directory, or refuse a folder that belongs to someone else.

    A new or empty folder is created and marked; a marked folder is used as is; anything else raises
    :class:`ForeignFolderError` without touching the folder.
    """
    run = RunDir(Path(root))
    if run.root.exists() and not run.root.is_dir():
        raise ForeignFolderError(f"{run.root} is a file, not a folder; choose another --out / out_dir")
    if run.marker.is_file():
        return run
    if run.root.is_dir() and any(run.root.iterdir()) and not is_dalda_run(run.root):
        raise ForeignFolderError(
            f"{run.root} is not empty and is not a dalda run directory (no {run.marker.name}); dalda writes only "
            "into its own run directories: choose a new or empty --out / out_dir, or move the files there elsewhere"
        )
    run.root.mkdir(parents=True, exist_ok=True)
    RunMarker(__version__, utc_now()).write(run)
    return run


def _owner(run: RunDir) -> str:
    try:
        owner = LockOwner.read(run)
    except (OSError, ValueError, TypeError):
        return "another process"
    return f"pid {owner.pid} (started {owner.started}, {owner.command})"


@contextmanager
def locked(root: Path, command: str = "") -> Iterator[None]:
    """Hold the run directory's lock for the block; fail at once when another process holds it."""
    run = RunDir(Path(root).resolve())
    root = run.root
    if root in _HELD:
        _HELD[root] += 1
        try:
            yield
        finally:
            _HELD[root] -= 1
        return
    root.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(run.lock), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise RunInUseError(
            f"{root} is in use by {_owner(run)}; wait for it to finish or use another --out"
        ) from None
    _HELD[root] = 1
    try:
        LockOwner(os.getpid(), utc_now(), command or " ".join(sys.argv[:2])).write(run)
        yield
    finally:
        del _HELD[root]
        run.lock_owner.unlink(missing_ok=True)
        lock.release()


def record(root: Path, line: HistoryLine) -> None:
    """Append one line (a command or a finished stage) to the run's history."""
    line.append(RunDir(Path(root)))


def history(root: Path) -> list[dict[str, Any]]:
    """The run's history as JSON objects, oldest first (none before the first command)."""
    return [line.to_json() for line in HistoryLine.read_all(RunDir(Path(root)), missing_ok=True)]


def last_stage_config(root: Path, stage: str) -> dict[str, Any] | None:
    """The resolved config the stage ``stage`` last finished with in this run, from the history; None when the
    history has no such entry (a run made before the history existed)."""
    for line in reversed(HistoryLine.read_all(RunDir(Path(root)), missing_ok=True)):
        if line.event == "stage" and line.stage == stage and isinstance(line.config, dict):
            return line.config
    return None


_ACTIONS = frozenset({"out_dir", "regenerate", "prompts.regenerate"})
"""Fields that are no part of what a run made (where it lies, one command's actions)."""


def flat_fields(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"guidance": {"strategy": "ags"}}`` as ``{"guidance.strategy": "ags"}`` (entry settings included)."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flat_fields(value, name + "."))
        else:
            flat[name] = value
    return flat


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The dotted fields whose value differs between two configs as JSON, actions and ``out_dir`` left out."""
    old, new = flat_fields(before), flat_fields(after)
    return sorted(name for name in old.keys() | new.keys() if name not in _ACTIONS and old.get(name) != new.get(name))


def changed_since(root: Path, config: DaldaConfig, stage: str) -> str:
    """"; config fields changed since <stage> last ran: ..." for an error or warning naming the cause, or ""."""
    before = last_stage_config(root, stage)
    if before is None:
        return ""
    names = changed_fields(before, config.model_dump(mode="json"))
    if not names:
        return ""
    shown = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
    return f"; config fields changed since {stage} last ran: {shown}"
