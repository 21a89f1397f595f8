"""A generator's one-off preparation (``Preparation``), shared out among launched processes without a collective.

Learning DA-Fusion's class tokens can take far longer than a collective's timeout (accelerate's barrier gives
up after 10-30 min), so no process waits at a barrier while units are made. Process ``k`` of ``n`` makes the
pending units ``k, k + n, ...`` of the generator's unit list (every process derives the same list), each saved
atomically by the generator as soon as it is finished; then it polls the file system until every unit is
done, logging what it still waits for at a steady interval. A process whose share fails leaves a failure
marker naming the unit and the error, so the others stop with that message instead of waiting for a unit that
will never appear (a process killed outright takes the launcher's whole process group down with it).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from dalda.artefacts import PreparationFailure
from dalda.config import ModelsConfig
from dalda.generators import Preparation
from dalda.rundir import RunDir

logger = logging.getLogger(__name__)

POLL_S = 5.0
"""How often a process that finished its share looks for the others' outputs."""
LOG_EVERY_S = 60.0
"""How often it logs what it is still waiting for."""


def failure_marker(run: RunDir, index: int, count: int) -> Path:
    """Where process ``index`` of ``count`` records that its share of the preparation failed."""
    return run.manifest_parts / f"prepare-failed-{index:04d}-of-{count:04d}.json"


def clear_failure_markers(run: RunDir) -> None:
    """Remove the failure markers of earlier attempts (the main process, before the processes' first barrier)."""
    if run.manifest_parts.is_dir():
        for marker in run.manifest_parts.glob("prepare-failed-[0-9][0-9][0-9][0-9]-of-[0-9][0-9][0-9][0-9].json"):
            marker.unlink(missing_ok=True)


def share_of(units: Sequence[str], index: int, count: int) -> list[str]:
    """Process ``index``'s units: every ``count``-th, from the ``index``-th (classes spread evenly)."""
    return list(units[index::count])


def prepare_shared(
    preparation: Preparation,
    run: RunDir,
    models: ModelsConfig,
    index: int = 0,
    count: int = 1,
    poll_s: float = POLL_S,
    log_every_s: float = LOG_EVERY_S,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Make this process's share of the pending units on ``models``' device, then wait (polling, no collective)
    until every unit is done; raises if another process's share failed."""
    mine = [unit for unit in share_of(preparation.units, index, count) if not preparation.is_done(unit)]
    if mine:
        logger.info(
            "process %d/%d makes %d %s(s): %s", index + 1, count, len(mine), preparation.what, ", ".join(map(repr, mine))
        )
        try:
            preparation.make(mine, models)
            unfinished = [unit for unit in mine if not preparation.is_done(unit)]
            if unfinished:
                raise RuntimeError(f"the generator made no up-to-date {preparation.what} for {unfinished}")
        except BaseException as error:
            _leave_failure_marker(preparation, run, index, count, mine, error)
            raise
    if count > 1:
        _wait_for_others(preparation, run, index, count, poll_s, log_every_s, sleep, clock)


def _leave_failure_marker(
    preparation: Preparation, run: RunDir, index: int, count: int, mine: Sequence[str], error: BaseException
) -> None:
    """Tell the other processes that this share failed (best effort: the original error is what is raised)."""
    try:
        unfinished = [unit for unit in mine if not preparation.is_done(unit)]
        failure = PreparationFailure(index, unfinished, f"{type(error).__name__}: {error}")
        failure.write(failure_marker(run, index, count))
    except Exception as marker_error:  # e.g. the disk that failed the share is full
        logger.error("could not leave the failure marker for the other processes: %s", marker_error)


def _wait_for_others(
    preparation: Preparation,
    run: RunDir,
    index: int,
    count: int,
    poll_s: float,
    log_every_s: float,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
) -> None:
    started = last_log = clock()
    while missing := [unit for unit in preparation.units if not preparation.is_done(unit)]:
        for other in range(count):
            marker = failure_marker(run, other, count)
            if other != index and marker.is_file():
                failure = PreparationFailure.read(marker)
                raise RuntimeError(
                    f"process {other + 1}/{count} failed to make the {preparation.what} for "
                    f"{', '.join(map(repr, failure.units)) or '(none)'}: {failure.error}; "
                    f"see its log, fix the cause and rerun (finished ones are kept)"
                )
        now = clock()
        if now - last_log >= log_every_s:
            last_log = now
            logger.info(
                "process %d/%d waits for %d of %d %s(s) from the other processes (%.0f s so far): %s",
                index + 1, count, len(missing), len(preparation.units), preparation.what, now - started,
                ", ".join(map(repr, missing[:5])) + (", ..." if len(missing) > 5 else ""),
            )
        sleep(poll_s)
