"""Keeping API keys out of everything the stage writes or says.

The key is read from the environment and passed only to the HTTP client. Anything else that could carry it
back (a server echoing the request, an exception message quoting a header) goes through :func:`redact`
before it is written to a file, logged or raised.

As a last line of defence, every key dalda reads is also *remembered* (:func:`remember_secret`) for the life
of the process, and every text file written through :mod:`dalda.io` passes through :func:`redact_known`; so a
key a server echoed inside a prompt sentence cannot reach ``prompts.json``, ``plan.jsonl``, the manifest or
any other file, whatever stage writes it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

MASK = "[REDACTED]"
MIN_SECRET_LENGTH = 8
"""Shorter values are not remembered: masking every "test" or "abc" in every file would corrupt them."""
_REMEMBERED: set[str] = set()


def remember_secret(value: str | None) -> None:
    """Mask ``value`` in every text file dalda writes from now on (see the module docstring)."""
    if value and len(value.strip()) >= MIN_SECRET_LENGTH:
        _REMEMBERED.add(value.strip())


def redact_known(text: str) -> str:
    """``text`` with every remembered secret masked (longest first, so a key containing another is masked whole)."""
    for secret in sorted(_REMEMBERED, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def redact(value: Any, secrets: Iterable[str]) -> Any:
    """``value`` with every occurrence of each secret replaced by a mask, through nested dicts and lists."""
    secrets = [s for s in secrets if s]
    if not secrets:
        return value
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, MASK)
        return value
    if isinstance(value, dict):
        return {redact(k, secrets): redact(v, secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(item, secrets) for item in value]
    return value
