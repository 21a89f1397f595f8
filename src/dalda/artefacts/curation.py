"""``synthetic/curation.jsonl``: a person's accept / reject of synthetic images (``dalda curate``), one line each.

The file is an append-only log of clicks: ``accept``, ``reject``, or ``undo`` (which takes back that image's
latest decision, down to none). Replayed, it gives each image's current decision (:meth:`CurationRecord.by_image`).
A person's decision overrides the automatic filter wherever images are chosen: training uses an accepted image
even if the filter rejected it, and never a rejected one; export and the kept-only metrics follow the same rule
(:func:`kept_by_person`). A decision is about the image's bytes (``sha256``): an image generated again since is
undecided.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from dalda.artefacts.record import JsonLinesRecord
from dalda.hashing import file_sha256
from dalda.rundir import RunDir

Decision = Literal["accept", "reject", "undo"]


@dataclass(frozen=True)
class CurationRecord(JsonLinesRecord):
    """One click of ``dalda curate``."""

    WHAT = "curation decisions"
    MADE_BY = "curate"

    file_name: str
    """The image, relative to ``synthetic/`` (as in the manifest)."""
    sha256: str
    decision: Decision
    time: str

    @classmethod
    def file(cls, run: RunDir) -> Path:
        return run.curation

    @classmethod
    def by_image(cls, run: RunDir) -> dict[str, CurationRecord]:
        """Each image's current decision, the log replayed (``undo`` pops the image's latest one)."""
        stacks: dict[str, list[CurationRecord]] = {}
        for record in cls.read_all(run, missing_ok=True):
            stack = stacks.setdefault(record.file_name, [])
            if record.decision == "undo":
                if stack:
                    stack.pop()
            else:
                stack.append(record)
        return {name: stack[-1] for name, stack in stacks.items() if stack}


def kept_by_person(curated: dict[str, CurationRecord], file_name: str, path: Path) -> bool | None:
    """True (accepted) or False (rejected) when a person decided about this image as it is now; None otherwise."""
    record = curated.get(file_name)
    if record is None or record.sha256 != file_sha256(path):
        return None
    return record.decision == "accept"
