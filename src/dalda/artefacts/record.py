"""The base every run-file record stands on: one JSON object per file, or one JSON object per line.

A record type names its file once (:meth:`JsonRecord.file`, a :class:`~dalda.rundir.RunDir` path) and what to
say when the file is missing (``WHAT``, and ``MADE_BY``, the command that makes it); ``read``/``write`` then take
the run directory or a file path. Writes go through :mod:`dalda.io`: atomic (a temporary sibling renamed into
place), API keys masked. A missing file raises :class:`MissingArtefactError` naming the file and the command; a
file that is not JSON, or lacks a field the type requires, raises ``ValueError`` naming the file.

The JSON shape is :meth:`to_json` / :meth:`from_json`. For a dataclass the default is its fields in declaration
order, with keys this version does not know kept in an ``extra`` field and written back after the known ones
(``_fields.py``), so a file an older or newer dalda wrote reads, and writes back, unchanged. Types whose file
is not a flat object (a table keyed by class, an open mapping) override the pair.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from dalda.artefacts._fields import from_mapping, to_mapping
from dalda.artefacts.errors import MissingArtefactError
from dalda.io import append_jsonl, read_json, read_jsonl, write_json_atomic, write_jsonl_atomic
from dalda.rundir import RunDir

R = TypeVar("R", bound="_Record")


class _Record:
    WHAT: ClassVar[str]
    """What the file holds, as the missing-file error names it ("split", "plan", ...)."""
    MADE_BY: ClassVar[str]
    """The ``dalda`` command that makes the file (the missing-file error says to run it first)."""
    HINT: ClassVar[str] = ""
    """Appended to the missing-file error (another way to get the file)."""

    @classmethod
    def file(cls, run: RunDir) -> Path:
        """The record's file in ``run``; types whose file needs more than the run (a classifier's name) take
        a path only."""
        raise TypeError(f"{cls.__name__} is read from and written to a file path, not a run directory")

    @classmethod
    def path_of(cls, where: RunDir | Path) -> Path:
        return cls.file(where) if isinstance(where, RunDir) else Path(where)

    @classmethod
    def missing(cls, path: Path) -> MissingArtefactError:
        return MissingArtefactError(cls.WHAT, path, cls.MADE_BY, cls.HINT)

    @classmethod
    def from_json(cls: type[R], payload: Any, where: object = "a JSON record") -> R:
        """The record of one JSON object (``where`` names the file or line in errors)."""
        return from_mapping(cls, payload, where)

    def to_json(self) -> Any:
        return to_mapping(self)


class JsonRecord(_Record):
    """A run file holding one JSON object."""

    @classmethod
    def read(cls: type[R], source: RunDir | Path) -> R:
        path = cls.path_of(source)
        if not path.is_file():
            raise cls.missing(path)
        try:
            payload = read_json(path)
        except ValueError as error:
            raise ValueError(f"{path} is not valid JSON ({error}); run `dalda {cls.MADE_BY}` again") from None
        return cls.from_json(payload, path)

    @classmethod
    def read_optional(cls: type[R], source: RunDir | Path) -> R | None:
        """The record, or None when its file is missing or unreadable (for files dalda simply writes anew)."""
        try:
            return cls.read(source)  # type: ignore[attr-defined, no-any-return]
        except (MissingArtefactError, ValueError):
            return None

    def write(self, target: RunDir | Path) -> None:
        write_json_atomic(self.path_of(target), self.to_json())


class JsonLinesRecord(_Record):
    """A run file holding one JSON object per line (a torn last line, left by a crash mid-append, is ignored)."""

    @classmethod
    def read_all(cls: type[R], source: RunDir | Path, missing_ok: bool = False) -> list[R]:
        """Every line's record, in file order; a missing file raises unless ``missing_ok`` (then: no records)."""
        path = cls.path_of(source)
        if not path.is_file():
            if missing_ok:
                return []
            raise cls.missing(path)
        return [cls.from_json(row, f"{path}:{number}") for number, row in enumerate(read_jsonl(path), start=1)]

    @classmethod
    def write_all(cls: type[R], target: RunDir | Path, records: Iterable[R]) -> None:
        """Replace the file with these records, atomically."""
        write_jsonl_atomic(cls.path_of(target), (record.to_json() for record in records))

    def append(self, target: RunDir | Path) -> None:
        """Add one complete, fsynced line (for files several steps or processes add to: history, manifest parts)."""
        append_jsonl(self.path_of(target), self.to_json())
