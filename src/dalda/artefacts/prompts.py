"""``prompts.json`` (class -> M sentences) and ``prompts_record.json`` (how the prompts were made, what came back).

``prompts_record.json`` lets a user audit every LLM answer (raw text, token usage, why a sentence was
rejected) and lets a later run continue where an interrupted one stopped. The prompts stage keeps one
:class:`PromptsRecord` up to date while it asks and saves it after every request (atomically, every secret
masked), so a crash or an exhausted retry budget loses nothing; planning, the report and a resumed run read the
same type back. Layout::

    {"status": "complete" | "incomplete", "settings": {...}, "started_at": ..., "finished_at": ...,
     "usage": {"prompt_tokens": ..., "completion_tokens": ..., "total_tokens": ...},
     "rounds": [{class: sentence}, ...],          # accepted sentences, one dict per round (M rounds)
     "attempts": [{"round", "attempt", "requested", "messages", "response", "usage", "details",
                   "accepted", "problems", "error", "started_at", "seconds"}, ...],
     "validation": "repair" | "warn" | "off",     # prompts.validation when the record was written
     "flagged_count": n,                          # len(flagged)
     "flagged": [{"round", "attempt", "class", "sentence", "reason", "action": "asked again" | "kept"}, ...]}

``flagged`` lists every sentence the validator flagged (``dalda.prompts.validation``) and what was done with
it. Records written before the last three keys existed still load (validation "repair", nothing flagged).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from dalda.artefacts._fields import NOT_STORED
from dalda.artefacts.record import JsonRecord
from dalda.io import write_json_atomic
from dalda.redact import redact
from dalda.rundir import RunDir

USAGE_KEYS = ("prompt_tokens", "completion_tokens", "total_tokens")


def utc_now() -> str:
    """The record's timestamps: UTC, milliseconds."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def plain(value: Any) -> Any:
    """``value`` as it reads back from JSON, so settings compare equal to a stored copy."""
    return json.loads(json.dumps(value, ensure_ascii=False))


@dataclass(frozen=True)
class PromptTable(JsonRecord):
    """``prompts.json``: the accepted sentences per class, in class order."""

    WHAT = "prompts"
    MADE_BY = "prompts"
    HINT = " (or prompts.source=base)"

    prompts: dict[str, list[str]]

    @classmethod
    def file(cls, run: RunDir) -> Path:
        return run.prompts

    def to_json(self) -> dict[str, list[str]]:
        return self.prompts

    @classmethod
    def from_json(cls, payload: Any, where: object = "a JSON record") -> PromptTable:
        if not isinstance(payload, dict):
            raise ValueError(f"{where} is not a JSON object of class -> sentences; run `dalda prompts` again")
        return cls(payload)


@dataclass
class PromptsRecord(JsonRecord):
    """``prompts_record.json``; see the module docstring. Mutable: the prompts stage fills it while it asks."""

    WHAT = "prompts record"
    MADE_BY = "prompts"

    status: str
    """"complete" or "incomplete"."""
    settings: dict[str, Any]
    """Everything the prompts depend on (``dalda.prompts.stage.stage_settings``); a cache is reused only when
    they are unchanged."""
    started_at: str
    finished_at: str | None
    usage: dict[str, int]
    """Token usage summed over ``attempts`` (set by :meth:`save`)."""
    rounds: list[dict[str, str]]
    """Accepted sentences, one dict (class -> sentence) per round."""
    attempts: list[dict[str, Any]]
    extra: dict[str, Any] = field(default_factory=dict)
    """Keys after ``attempts``: ``validation``, ``flagged_count``, ``flagged`` (read through the properties
    below, so a record written before they existed reads and writes back byte for byte), then any key a newer
    version wrote."""
    path: Path | None = field(default=None, compare=False, repr=False, metadata=NOT_STORED)
    """Where :meth:`save` writes (a stage's record: the run's record, or the pending one beside it)."""
    secrets: tuple[str, ...] = field(default=(), compare=False, repr=False, metadata=NOT_STORED)
    """Values masked in every save (the API key), on top of :mod:`dalda.redact`'s remembered keys."""

    @classmethod
    def file(cls, run: RunDir) -> Path:
        return run.prompts_record

    @classmethod
    def new(
        cls, path: Path, settings: dict[str, Any], secrets: tuple[str, ...] = (), validation: str = "repair"
    ) -> PromptsRecord:
        """An empty, incomplete record of a prompts run with ``settings`` (as they read back from JSON)."""
        return cls(
            status="incomplete", settings=plain(settings), started_at=utc_now(), finished_at=None,
            usage=dict.fromkeys(USAGE_KEYS, 0), rounds=[], attempts=[],
            extra={"validation": validation, "flagged_count": 0, "flagged": []}, path=Path(path), secrets=secrets,
        )  # fmt: skip

    @classmethod
    def resume_or_new(
        cls, path: Path, settings: dict[str, Any], secrets: tuple[str, ...] = (), validation: str = "repair"
    ) -> PromptsRecord:
        """A new record, carrying over the rounds, attempts and flags of an incomplete one with the same settings
        (an unreadable record is simply started again)."""
        record = cls.new(path, settings, secrets, validation)
        previous = cls.read_optional(Path(path))
        if previous is not None and previous.status == "incomplete" and previous.settings == record.settings:
            record.rounds = [dict(r) for r in previous.rounds]
            record.attempts = list(previous.attempts)
            record.flagged = list(previous.flagged)
            record.started_at = previous.started_at
        return record

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

    @flagged.setter
    def flagged(self, entries: list[dict[str, Any]]) -> None:
        self.extra["flagged_count"] = len(entries)
        self.extra["flagged"] = list(entries)

    @property
    def flagged_count(self) -> int:
        return len(self.flagged)

    @property
    def prompt_source(self) -> str | None:
        """Who wrote the prompts: "base", "file", or the chat backend's name (e.g. "template", "openai")."""
        source = self.settings.get("source")
        return self.settings.get("backend") if source == "llm" else source

    def save(self) -> None:
        """Write the record to :attr:`path` with the usage summed and every secret masked."""
        if self.path is None:
            raise ValueError("this prompts record was read, not made by a prompts run: it has no path to save to")
        self.usage = {
            key: sum(int(attempt.get("usage", {}).get(key, 0) or 0) for attempt in self.attempts)
            for key in USAGE_KEYS
        }
        self.write(self.path)

    def write(self, target: RunDir | Path) -> None:
        write_json_atomic(self.path_of(target), redact(self.to_json(), self.secrets))

    def finish(self) -> None:
        self.status = "complete"
        self.finished_at = utc_now()
        self.save()
