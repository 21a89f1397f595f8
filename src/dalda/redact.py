"""Keeping API keys out of everything the stage writes or says.

The key is read from the environment and passed only to the HTTP client. Anything else that could carry it
back (a server echoing the request, an exception message quoting a header) goes through :func:`redact`
before it is written to a file, logged or raised.

As a last line of defence, every key dalda reads is also *remembered* (:func:`remember_secret`) for the life
of the process, and every text file written through :mod:`dalda.io` passes through :func:`redact_known`; so a
key a server echoed inside a prompt sentence cannot reach ``prompts.json``, ``plan.jsonl``, the manifest or
any other file, whatever stage writes it.

Values that were never read as keys can still be keys: one pasted where a variable *name* belongs, or a
``user:password@`` inside a URL. :func:`looks_like_secret` recognises the first (the common key prefixes, long
hex strings, long mixed-case or digit-heavy tokens, none of which an environment variable's name looks like) and
:func:`redact_argv` masks both in a command line before ``history.jsonl`` records it.
"""

from __future__ import annotations

import re
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


_KEY_PREFIXES = ("sk-", "sk_", "gsk_", "hf_", "xai-", "ghp_", "gho_", "ghs_", "github_pat_", "glpat-", "AKIA", "AIza",
                 "pk_", "rk_", "sess-", "nvapi-", "pplx-", "r8_", "fw_", "csk-", "sk-ant-")
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@")


def looks_like_secret(value: str) -> bool:
    """Whether ``value`` looks like an API key or token rather than a name (module docstring)."""
    text = value.strip()
    if any(text.startswith(prefix) for prefix in _KEY_PREFIXES) and len(text) >= 12:
        return True
    if len(text) >= 16 and re.fullmatch(r"[0-9a-fA-F]+", text) and re.search(r"\d", text):
        return True
    if len(text) < 20 or not re.fullmatch(r"\w+", text, re.ASCII):  # a token of [A-Za-z0-9_], as a name is
        return False
    mixed = re.search(r"[a-z]", text) and re.search(r"[A-Z]", text) and re.search(r"\d", text)
    return bool(mixed) or sum(ch.isdigit() for ch in text) >= len(text) // 4


def redact_argv(argv: Iterable[str]) -> list[str]:
    """A command line as it may be recorded: URL credentials, values that look like keys (alone or after
    ``name=``) and every remembered secret masked."""
    masked = []
    for item in argv:
        text = _URL_CREDENTIALS.sub(lambda match: f"{match['scheme']}{MASK}@", item)
        value = text.split("=", 1)[1] if "=" in text else text
        if looks_like_secret(value):
            text = text[: len(text) - len(value)] + MASK
        masked.append(redact_known(text))
    return masked
