"""The ``openai`` chat backend's own settings (``prompts: {backend: openai, model: ..., base_url: ...}``).

They sit flat beside ``prompts.backend`` (``-s prompts.model=gpt-4o``), and only a config that chooses the
``openai`` backend holds them. Two of them guard secrets: ``api_key_env`` must be the *name* of the variable that
holds the key (a pasted key would be written to ``config.yaml``; one made only of letters, digits and ``_``, as a
name is, is told apart by ``dalda.redact.looks_like_secret``), and ``base_url`` loses any ``user:password@``
before it is stored or logged.
"""

from __future__ import annotations

import logging
import re
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, field_validator

from dalda.redact import looks_like_secret
from dalda.settings import EntrySettings, sized

log = logging.getLogger(__name__)

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def strip_url_credentials(url: str) -> str:
    """``url`` without a ``user:password@`` part (the only way a URL can carry a secret by itself)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


class OpenAISettings(EntrySettings):
    """Where the API is, how to authenticate, the OpenAI-only sampling settings and the retry policy.

    Defaults are the paper's GPT-4 settings (Tab. 4). ``network_retries`` bounds the re-sends of one request
    after a timeout, a connection error, HTTP 5xx or HTTP 429 (``prompts.max_retries`` bounds the repair
    requests, whoever answers).
    """

    model: str = Field("gpt-4-0613", description="Model name (Azure: the deployment name).")
    base_url: str | None = Field(
        None,
        description="API root, e.g. http://localhost:8000/v1 for vLLM/llama.cpp/Ollama; Azure: the resource "
        "endpoint. None: api.openai.com.",
    )
    api_type: Literal["openai", "azure"] = Field(
        "openai", description="openai: OpenAI or a compatible server; azure: Azure OpenAI."
    )
    api_version: str | None = Field(None, description="Azure OpenAI API version, e.g. 2024-06-01 (azure only).")
    api_key_env: str = Field("OPENAI_API_KEY", description="Environment variable holding the API key.")
    api_key_required: bool = Field(
        True, description="False: a local server that needs no key; a placeholder is sent when the variable is unset."
    )
    json_mode: bool = Field(
        False, description="Ask the server for a JSON object (response_format); not every model/server supports it."
    )
    frequency_penalty: float = Field(0.0, ge=-2.0, le=2.0, description="Frequency penalty sent with every request.")
    presence_penalty: float = Field(0.0, ge=-2.0, le=2.0, description="Presence penalty sent with every request.")
    timeout_s: float = Field(
        60.0, gt=0.0, le=3600.0, json_schema_extra=sized("s"), description="Seconds one request may take in all."
    )
    max_response_mb: float = Field(
        16.0,
        ge=0.01,
        le=1024.0,
        json_schema_extra=sized("MB"),
        description="Largest response body read for one request (MB); a larger one is refused before it fills memory.",
    )
    network_retries: int = Field(5, ge=0, le=100, description="Re-sends of one request after timeout/5xx/429.")
    backoff_base_s: float = Field(
        1.0, ge=0.0, le=600.0, json_schema_extra=sized("s"),
        description="First back-off wait; doubles per retry, with jitter.",
    )
    backoff_max_s: float = Field(
        60.0, ge=0.0, le=3600.0, json_schema_extra=sized("s"),
        description="Longest single wait, Retry-After included.",
    )

    @field_validator("api_key_env")
    @classmethod
    def _variable_name(cls, value: str) -> str:
        """A variable name, never the key itself: a pasted key would be written to config.yaml (and echoed)."""
        if not _ENV_NAME.fullmatch(value) or looks_like_secret(value):
            raise ValueError(
                "prompts.api_key_env must be the NAME of an environment variable (letters, digits and _, e.g. "
                "OPENAI_API_KEY), not the key itself; export the key in that variable (the value is not shown)"
            )
        return value

    @field_validator("base_url")
    @classmethod
    def _no_credentials(cls, value: str | None) -> str | None:
        """``user:password@`` in the URL is dropped (with a warning) so it is never written or logged."""
        if value is None:
            return value
        stripped = strip_url_credentials(value)
        if stripped != value:
            log.warning(
                "prompts.base_url held credentials (user:password@); they were removed and are never stored; "
                "put the key in the variable named by prompts.api_key_env"
            )
        return stripped
