"""Chat backends by name (``prompts.backend``): who writes the M prompts per class (paper Sec. 3.3, App. C).

Each entry is a :class:`ChatBackendSpec`. Adding a backend is one module that answers
:class:`ChatBackend.complete` plus one ``CHAT_BACKENDS.register`` call; the prompts stage, its cache and its
record work with it unchanged (``docs/extending.md``).
"""

from __future__ import annotations

from dalda.chat.openai import OPENAI
from dalda.chat import source as _source
from dalda.chat.protocol import BackendError, ChatBackend, ChatBackendSpec, ChatMessage, ChatReply
from dalda.chat.template import TEMPLATE
from dalda.chat.transformers import TRANSFORMERS
from dalda.config import DaldaConfig
from dalda.registry import Registry
from dalda.rundir import RunDir

CHAT_BACKENDS = Registry[ChatBackendSpec]("chat backend", setting="prompts.backend", group="dalda.chat")
for _spec in (TEMPLATE, OPENAI, TRANSFORMERS):
    CHAT_BACKENDS.register(_spec.name, _spec)


def prompt_source(config: DaldaConfig, run: RunDir | None = None) -> str:
    """Who wrote the prompts of ``config`` (or of ``run``, from its prompts record): "llm", "template", "file",
    "base" (``dalda.chat.source``); ``dalda.methods``, above this package, asks it for honest method labels."""
    return _source.prompt_source(config, CHAT_BACKENDS, run)


__all__ = [
    "CHAT_BACKENDS", "BackendError", "ChatBackend", "ChatBackendSpec", "ChatMessage", "ChatReply", "prompt_source"
]
