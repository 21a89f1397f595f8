"""What a chat backend is: messages in, text out, and the spec that names, keys and builds one.

Backends differ in how they reach a model (HTTP API, in-process transformers, or no model at all for the
offline template); the prompts stage asks them all the same request (:mod:`dalda.chat.request`) and checks
every answer by the same rules, so a new backend needs only to answer messages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from dalda.config import DaldaConfig
from dalda.settings import EntrySettings, NoSettings

ChatMessage = dict[str, str]
"""One message of a conversation: ``{"role": "system" | "user" | "assistant", "content": text}``."""


class BackendError(RuntimeError):
    """A backend could not answer (bad key, unknown model, server down after all retries)."""


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
        """Answer one conversation; raise :class:`BackendError` when no answer can be had."""
        ...


def _no_key_variables(settings: Any) -> tuple[str, ...]:
    return ()


@dataclass(frozen=True)
class ChatBackendSpec:
    """A ``prompts.backend`` entry: everything the prompts stage needs to know about one backend.

    ``fingerprint`` and ``build`` get the config (for what every backend shares: ``prompts.temperature``,
    ``seed``, ``models.profile``) and the backend's own settings, resolved from ``prompts:``
    (:func:`dalda.chat.backend_settings`). Keep the module that defines the spec free of torch and transformers
    (import them inside ``build``): every command checks its config against the registry.
    """

    name: str
    is_llm: bool
    """True for a language model; False for an offline, deterministic stand-in (the template), which needs no
    dataset description and which a report must not present as LLM prompts."""
    fingerprint: Callable[[DaldaConfig, Any], dict[str, Any]]
    """What the backend's prompts depend on (``{"model": ..., "parameters": {...}}``): the cache key written
    into ``prompts_record.json``; read from the settings alone, so checking a cache needs no key or model."""
    build: Callable[[DaldaConfig, Any], ChatBackend]
    """The ready backend; reads the API key / loads the model, so it is called only when prompts are asked for."""
    settings_model: type[EntrySettings] = NoSettings
    """Its own settings, beside ``prompts.backend`` (``dalda.settings``)."""
    key_variables: Callable[[Any], tuple[str, ...]] = _no_key_variables
    """The environment variables holding the secrets it sends (an API key), by its settings: every file dalda
    writes masks their values."""
