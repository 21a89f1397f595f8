"""The prompts record (what was asked, of whom, with which settings, what came back) and the stage's errors.

``prompts_record.json`` lets a user audit every LLM answer (raw text, token usage, why a sentence was
rejected) and lets a later run continue where an interrupted one stopped. It is rewritten atomically after
every request, with every secret (the API key) masked, so a crash or an exhausted retry budget loses nothing.

Layout::

    {"status": "complete" | "incomplete", "settings": {...}, "started_at": ..., "finished_at": ...,
     "usage": {"prompt_tokens": ..., "completion_tokens": ..., "total_tokens": ...},
     "rounds": [{class: sentence}, ...],          # accepted sentences, one dict per round (M rounds)
     "attempts": [{"round", "attempt", "requested", "messages", "response", "usage", "details",
                   "accepted", "problems", "error", "started_at", "seconds"}, ...],
     "validation": "repair" | "warn" | "off",     # prompts.validation when the record was written
     "flagged_count": n,                          # len(flagged)
     "flagged": [{"round", "attempt", "class", "sentence", "reason", "action": "asked again" | "kept"}, ...]}

``flagged`` lists every sentence the validator flagged (``dalda.prompts.validation``) and what was done with
it. Records written before these three keys existed still load (``dalda.artefacts.PromptsRecordFile``).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from dalda.io import read_json, write_json_atomic
from dalda.redact import redact


class PromptsError(RuntimeError):
    """The prompts stage cannot produce prompts; the message names the setting, class or file at fault."""


class PromptsIncompleteError(PromptsError):
    """Retries ran out before every class had a valid sentence.

    ``missing`` lists the classes without a sentence in round ``round_index`` (0-based); everything obtained
    until then is saved in the run's prompts record, and the next run continues from there.
    """

    def __init__(self, message: str, *, round_index: int, missing: list[str]) -> None:
        super().__init__(message)
        self.round_index = round_index
        self.missing = missing


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def plain(value: Any) -> Any:
    """``value`` as it reads back from JSON, so settings compare equal to a stored copy."""
    return json.loads(json.dumps(value, ensure_ascii=False))


class PromptsRecord:
    """In-memory record of one prompts run, saved to ``path`` with ``secrets`` masked."""

    def __init__(
        self, path: Path, settings: dict[str, Any], secrets: tuple[str, ...] = (), validation: str = "repair"
    ) -> None:
        self.path = Path(path)
        self.validation = validation
        self.flagged: list[dict[str, Any]] = []
        self.settings = plain(settings)
        self.secrets = secrets
        self.status = "incomplete"
        self.started_at = utc_now()
        self.finished_at: str | None = None
        self.rounds: list[dict[str, str]] = []
        self.attempts: list[dict[str, Any]] = []

    @classmethod
    def resume_or_new(
        cls, path: Path, settings: dict[str, Any], secrets: tuple[str, ...] = (), validation: str = "repair"
    ) -> PromptsRecord:
        """A new record, carrying over the rounds, attempts and flags of an incomplete one with the same settings."""
        record = cls(path, settings, secrets, validation)
        previous = read_record(path)
        if previous and previous.get("status") == "incomplete" and previous.get("settings") == record.settings:
            record.rounds = [dict(r) for r in previous.get("rounds", [])]
            record.attempts = list(previous.get("attempts", []))
            record.flagged = list(previous.get("flagged", []))
            record.started_at = previous.get("started_at", record.started_at)
        return record

    def usage(self) -> dict[str, int]:
        totals = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
        for attempt in self.attempts:
            for key in totals:
                totals[key] += int(attempt.get("usage", {}).get(key, 0) or 0)
        return totals

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "settings": self.settings,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "usage": self.usage(),
            "rounds": self.rounds,
            "attempts": self.attempts,
            "validation": self.validation,
            "flagged_count": len(self.flagged),
            "flagged": self.flagged,
        }

    def save(self) -> None:
        write_json_atomic(self.path, redact(self.to_json(), self.secrets))

    def finish(self) -> None:
        self.status = "complete"
        self.finished_at = utc_now()
        self.save()


def read_record(path: Path) -> dict[str, Any] | None:
    """The stored record, or None when it is absent or unreadable (it is then simply rewritten)."""
    try:
        value = read_json(path)
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None
