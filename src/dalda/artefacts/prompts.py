"""``prompts.json`` (class -> M sentences) and ``prompts_record.json`` (how the LLM was asked, what it said).

The in-memory record that the prompts stage keeps up to date while it asks is ``dalda.prompts.record``; these
types are what a later reader (planning, a resumed run, an audit) gets from the files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dalda.artefacts._fields import from_mapping, to_mapping
from dalda.artefacts.errors import MissingArtefactError
from dalda.io import read_json, write_json_atomic
from dalda.rundir import RunDir


@dataclass(frozen=True)
class PromptTable:
    """``prompts.json``: the accepted sentences per class, in class order."""

    prompts: dict[str, list[str]]

    @classmethod
    def read(cls, source: RunDir | Path) -> PromptTable:
        path = source.prompts if isinstance(source, RunDir) else Path(source)
        if not path.is_file():
            raise MissingArtefactError("prompts", path, "prompts", " (or prompts.source=base)")
        payload = read_json(path)
        if not isinstance(payload, dict):
            raise ValueError(f"{path} is not a JSON object of class -> sentences; run `dalda prompts` again")
        return cls(payload)

    def write(self, target: RunDir | Path) -> None:
        write_json_atomic(target.prompts if isinstance(target, RunDir) else Path(target), self.prompts)


@dataclass(frozen=True)
class PromptsRecordFile:
    """``prompts_record.json`` as written by ``dalda.prompts.record.PromptsRecord`` (secrets masked)."""

    status: str
    """"complete" or "incomplete"."""
    settings: dict[str, Any]
    started_at: str
    finished_at: str | None
    usage: dict[str, int]
    rounds: list[dict[str, str]]
    """Accepted sentences, one dict (class -> sentence) per round."""
    attempts: list[dict[str, Any]]
    extra: dict[str, Any] = field(default_factory=dict)
    """Keys after ``attempts``: ``validation``, ``flagged_count``, ``flagged`` (read through the properties
    below, so a record written before they existed reads and writes back byte for byte)."""

    @property
    def validation(self) -> str:
        """``prompts.validation`` of the run that wrote the record ("repair" for records older than the setting)."""
        return str(self.extra.get("validation", "repair"))

    @property
    def flagged(self) -> list[dict[str, Any]]:
        """Sentences the validator flagged, each ``{"round", "attempt", "class", "sentence", "reason", "action"}``
        (a hand-written file's have no round or attempt), action "asked again" (``repair``) or "kept" (``warn``);
        empty for records older than the list."""
        value = self.extra.get("flagged", [])
        return [entry for entry in value if isinstance(entry, dict)] if isinstance(value, list) else []

    @property
    def flagged_count(self) -> int:
        return len(self.flagged)

    @classmethod
    def read(cls, source: RunDir | Path) -> PromptsRecordFile:
        path = source.prompts_record if isinstance(source, RunDir) else Path(source)
        if not path.is_file():
            raise MissingArtefactError("prompts record", path, "prompts")
        return from_mapping(cls, read_json(path), path)

    @property
    def prompt_source(self) -> str | None:
        """Who wrote the prompts: "base", "file", or the chat backend's name (e.g. "template", "openai")."""
        source = self.settings.get("source")
        return self.settings.get("backend") if source == "llm" else source

    def write(self, target: RunDir | Path) -> None:
        write_json_atomic(target.prompts_record if isinstance(target, RunDir) else Path(target), to_mapping(self))
