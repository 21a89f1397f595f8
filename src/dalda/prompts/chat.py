"""What every LLM backend offers the prompt collector: messages in, text out.

Backends differ in how they reach a model (HTTP API, in-process transformers); the collector, the JSON
parsing and the validation are shared, so every backend is checked by the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from dalda.prompts.messages import ChatMessage


@dataclass
class ChatReply:
    """One answer: its text, token usage (prompt/completion/total tokens when known) and backend details."""

    text: str
    usage: dict[str, int] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)


class ChatBackend(Protocol):
    name: str
    secrets: tuple[str, ...]
    """Values that must never be written or logged (the API key); the collector redacts them from the record."""

    def complete(self, messages: list[ChatMessage]) -> ChatReply:
        """Answer one conversation; raise :class:`~dalda.prompts.errors.BackendError` when no answer can be had."""
        ...
