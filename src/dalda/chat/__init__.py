"""Chat backends by name (``prompts.backend``): who writes the M prompts per class (paper Sec. 3.3, App. C).

Each entry is a :class:`ChatBackendSpec`. Adding a backend is one module that answers
:class:`ChatBackend.complete` plus one ``CHAT_BACKENDS.register`` call; the prompts stage, its cache and its
record work with it unchanged (``docs/extending.md``).
"""

from __future__ import annotations

from dalda.chat.openai import OPENAI
from dalda.chat.protocol import BackendError, ChatBackend, ChatBackendSpec, ChatMessage, ChatReply
from dalda.chat.template import TEMPLATE
from dalda.chat.transformers import TRANSFORMERS
from dalda.registry import Registry

CHAT_BACKENDS = Registry[ChatBackendSpec]("chat backend", setting="prompts.backend")
for _spec in (TEMPLATE, OPENAI, TRANSFORMERS):
    CHAT_BACKENDS.register(_spec.name, _spec)

__all__ = ["CHAT_BACKENDS", "BackendError", "ChatBackend", "ChatBackendSpec", "ChatMessage", "ChatReply"]
