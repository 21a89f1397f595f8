"""Progress of long loops (generation, training, evaluation, scoring, textual inversion) on stderr.

On a terminal: a rich bar with count, throughput, elapsed time and ETA. Anywhere else (``nohup``, Slurm, a
pipe): one plain line every ``DALDA_PROGRESS_INTERVAL`` seconds (default 30) and a last line when the loop
ends, each with the count, the rate, the elapsed time and the ETA, so a log shows a long job advancing. The
rate is the count over the elapsed time, so it is a number from the first item on (never ``--``).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn
from rich.text import Text

DEFAULT_INTERVAL_S = 30.0


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


def progress_line(description: str, done: int, total: int, elapsed: float, unit: str) -> str:
    """One plain progress line: ``generating: 40/80 (50%), 1.25 img/s, elapsed 0:32, ETA 0:32``."""
    percent = f" ({100 * done / total:.0f}%)" if total else ""
    eta = _clock((total - done) * elapsed / done) if done and total else "?"
    rate = rate_text(done, elapsed, unit)
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


@contextmanager
def progress_bar(
    description: str,
    total: int,
    unit: str = "it",
    enabled: bool = True,
    stream: TextIO | None = None,
    interval: float | None = None,
) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(n=1)``; a bar on a terminal, plain lines at a steady interval elsewhere (module docstring).

    ``enabled=False`` shows nothing (e.g. on every process but the main one); ``stream`` defaults to stderr.
    """
    stream = stream if stream is not None else sys.stderr
    if not enabled or total <= 0:
        yield lambda n=1: None
        return
    console = Console(file=stream)
    if console.is_terminal:
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), _Rate(unit), _Remaining())
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task(description, total=total)
            yield lambda n=1: progress.advance(task, n)
        return
    every = _interval() if interval is None else interval
    started = last = time.monotonic()
    done = 0

    def advance(n: int = 1) -> None:
        nonlocal done, last
        done += n
        now = time.monotonic()
        if now - last >= every and done < total:
            last = now
            stream.write(progress_line(description, done, total, now - started, unit) + "\n")
            stream.flush()

    try:
        yield advance
    finally:
        stream.write(progress_line(description, done, total, time.monotonic() - started, unit) + "\n")
        stream.flush()
