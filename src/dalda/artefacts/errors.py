"""The one error every missing run-directory input raises, naming the file and the command that makes it."""

from __future__ import annotations

from pathlib import Path


class MissingArtefactError(FileNotFoundError):
    """A stage's input is not in the run directory yet: the message says which file and what to run first."""

    def __init__(self, what: str, path: Path, command: str, hint: str = "") -> None:
        self.path = Path(path)
        self.command = command
        super().__init__(f"no {what} at {self.path}; run `dalda {command}` first{hint}")
