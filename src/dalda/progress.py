"""A progress bar on stderr for long loops (encoding, training, diversity), quiet when nothing is to be done."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

_CONSOLE = Console(stderr=True)


@contextmanager
def progress_bar(description: str, total: int) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(n)``; the bar disappears when done, and is off when stderr is not a terminal (log files)."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=_CONSOLE, transient=True, disable=not _CONSOLE.is_terminal) as progress:
        task = progress.add_task(description, total=total)
        yield lambda n=1: progress.advance(task, n)
