"""Progress of long loops (generation, training, evaluation, scoring, textual inversion) on stderr.

On a terminal: a rich bar with count, throughput, elapsed time and ETA. Anywhere else (``nohup``, Slurm, a
pipe): one plain, unwrapped line every ``DALDA_PROGRESS_INTERVAL`` seconds (default 30) and a last line when the
loop ends, each stamped with the UTC time and holding the count, the rate, the elapsed time and the ETA. The
interval is kept by a heartbeat thread, not by the loop, so a log shows the job alive while one slow item (an
image on a CPU, a model download) runs for minutes. The rate is the count over the elapsed time, so it is a
number from the first item on (never ``--``).

The lines go to the ``dalda.progress`` logger when logging is configured (the CLI does, and its ``--log-file``
then gets them too), else straight to stderr, so a Python script that never set up logging still sees them.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn
from rich.text import Text

DEFAULT_INTERVAL_S = 30.0
logger = logging.getLogger(__name__)


def utc_stamp() -> str:
    """``2026-12-08T03:10:00Z``: the time a plain log line starts with."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _interval() -> float:
    try:
        return max(0.0, float(os.environ.get("DALDA_PROGRESS_INTERVAL", DEFAULT_INTERVAL_S)))
    except ValueError:
        return DEFAULT_INTERVAL_S


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def rate_text(done: float, elapsed: float, unit: str) -> str:
    """``12.3 img/s`` (or ``4.1 s/img`` when slower than one per second); ``0 img/s`` before the first item."""
    if done <= 0 or elapsed <= 0:
        return f"0 {unit}/s"
    rate = done / elapsed
    return f"{rate:.2f} {unit}/s" if rate >= 1 else f"{1 / rate:.1f} s/{unit}"


def progress_line(description: str, done: int, total: int, elapsed: float, unit: str, resumed: int = 0) -> str:
    """One plain progress line: ``generating: 40/80 (50%), 1.25 img/s, elapsed 0:32, ETA 0:32``; the rate and
    ETA count only the items done since the loop (re)started, ``resumed`` being those finished before."""
    percent = f" ({100 * done / total:.0f}%)" if total else ""
    fresh = done - resumed
    eta = _clock((total - done) * elapsed / fresh) if fresh > 0 and total else "?"
    rate = rate_text(fresh, elapsed, unit)
    return f"{description}: {done}/{total}{percent}, {rate}, elapsed {_clock(elapsed)}, ETA {eta}"


class _Rate(ProgressColumn):
    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        elapsed = task.finished_time if task.finished else task.elapsed
        return Text(rate_text(task.completed, elapsed or 0.0, self.unit), style="progress.data.speed")


class _Remaining(ProgressColumn):
    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        if not task.completed or task.total is None:
            return Text("ETA ?", style="progress.remaining")
        left = (task.total - task.completed) * elapsed / task.completed
        return Text(f"{_clock(elapsed)} ETA {_clock(left)}", style="progress.remaining")


def _plain_writer(stream: TextIO | None) -> Callable[[str], None]:
    """Where plain lines go: ``stream`` if given, the logger when logging is configured, else stderr."""
    if stream is None and logging.getLogger().handlers:
        return logger.info
    target = stream if stream is not None else sys.stderr

    def write(line: str) -> None:
        target.write(f"{utc_stamp()} {line}\n")
        target.flush()

    return write


def _is_terminal(stream: TextIO | None) -> bool:
    return Console(file=stream if stream is not None else sys.stderr).is_terminal


@contextmanager
def progress_bar(
    description: str,
    total: int,
    unit: str = "it",
    enabled: bool = True,
    stream: TextIO | None = None,
    interval: float | None = None,
    done: int = 0,
) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(n=1)``; a bar on a terminal, plain lines at a steady interval elsewhere (module docstring).

    ``enabled=False`` shows nothing (e.g. on every process but the main one); ``stream`` defaults to stderr;
    ``done`` items were finished before (a resumed loop).
    """
    if not enabled or total <= 0:
        yield lambda n=1: None
        return
    if _is_terminal(stream):
        console = Console(file=stream if stream is not None else sys.stderr)
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), _Rate(unit), _Remaining())
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task(description, total=total, completed=done)
            yield lambda n=1: progress.advance(task, n)
        return
    write = _plain_writer(stream)
    every = _interval() if interval is None else interval
    started = time.monotonic()
    state = {"done": done, "resumed": done, "last": started}
    lock = threading.Lock()

    def report() -> None:
        now = time.monotonic()
        state["last"] = now
        write(progress_line(description, state["done"], total, now - started, unit, state["resumed"]))

    def advance(n: int = 1) -> None:
        with lock:
            state["done"] += n
            if time.monotonic() - state["last"] >= every and state["done"] < total:
                report()

    stop = threading.Event()

    def heartbeat() -> None:
        while not stop.wait(every):
            with lock:
                if time.monotonic() - state["last"] >= every:
                    report()

    beating = threading.Thread(target=heartbeat, name=f"progress: {description}", daemon=True) if every > 0 else None
    if beating is not None:
        beating.start()
    try:
        yield advance
    finally:
        stop.set()
        if beating is not None:
            beating.join()
        with lock:
            report()
