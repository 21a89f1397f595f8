"""Keeping API keys out of everything the stage writes or says.

The key is read from the environment and passed only to the HTTP client. Anything else that could carry it
back (a server echoing the request, an exception message quoting a header) goes through :func:`redact`
before it is written to a file, logged or raised.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

MASK = "[REDACTED]"


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
