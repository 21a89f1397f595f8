"""The ``openai`` chat backend: any OpenAI-compatible chat API through the official ``openai`` client.

Works with OpenAI (GPT-4, the paper's model), Azure OpenAI (``prompts.api_type=azure``) and local servers that
speak the same protocol (vLLM, llama.cpp server, Ollama) through ``prompts.base_url``; its settings
(``openai_settings.OpenAISettings``) sit beside ``prompts.backend=openai``. The client's own retries are
switched off (``max_retries=0``) and done here instead, so that what happens on a timeout, HTTP 5xx or HTTP 429
is ours to define, log and test: 429 and 503 obey ``Retry-After`` / ``retry-after-ms`` (up to a cap), everything
passing backs off exponentially with random jitter (so many clients that failed together do not retry
together), and client errors (bad key, unknown model) stop at once with a clear message. Every try has one
total deadline, ``prompts.timeout_s``, for its status line, headers and body together (:func:`within_deadline`,
:class:`RequestDeadline`): a server that trickles any of them is cut off, not waited for byte by byte.

The API key is read from the environment variable named by ``prompts.api_key_env`` and never written, logged
or put into an error message.
"""

from __future__ import annotations

import logging
import os
import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

try:  # the HTTP library the installed openai client is built on (httpx2 for openai 3, httpx before)
    import httpx2 as httpx
except ImportError:  # pragma: no cover - older openai releases
    import httpx  # type: ignore[no-redef]

from dalda.chat.openai_settings import OpenAISettings, strip_url_credentials
from dalda.chat.protocol import BackendError, ChatBackendSpec, ChatMessage, ChatReply
from dalda.config import DaldaConfig
from dalda.extras import require
from dalda.redact import redact, remember_secret

if TYPE_CHECKING:
    import openai

log = logging.getLogger(__name__)

# Sent when prompts.api_key_required=false and the variable is unset: local servers ignore the key, but the
# client refuses to start without one.
PLACEHOLDER_KEY = "no-key-needed"
_TRANSIENT_STATUS = {408, 409, 429}
_DEADLINE_SLACK_S = 0.5
"""The whole-request deadline waits this much past ``timeout_s``, so a body cut off by :class:`RequestDeadline`
ends as the client's own timeout (and its connection is closed cleanly) rather than abandoned in its thread."""


def backoff_delay(retry: int, base_s: float, cap_s: float, rng: random.Random) -> float:
    """Wait before retry number ``retry`` (0-based): ``base * 2**retry`` capped, times a jitter in [0.5, 1]."""
    return min(cap_s, base_s * (2.0**retry)) * rng.uniform(0.5, 1.0)


def retry_after_seconds(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds the server asks us to wait, from ``retry-after-ms`` or ``Retry-After`` (seconds or HTTP date)."""
    lowered = {key.lower(): value for key, value in headers.items()}
    if "retry-after-ms" in lowered:
        try:
            return max(0.0, float(lowered["retry-after-ms"]) / 1000.0)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


def read_api_key(settings: OpenAISettings) -> str:
    """The key from ``$prompts.api_key_env``; the placeholder for key-less local servers; else a clear error."""
    key = os.environ.get(settings.api_key_env, "").strip()
    if key:
        remember_secret(key)
        return key
    if not settings.api_key_required:
        return PLACEHOLDER_KEY
    raise BackendError(
        f"prompts.backend=openai needs an API key in the environment variable {settings.api_key_env}, which is "
        f"unset or empty; export {settings.api_key_env}=<your key>, or set prompts.api_key_env to the variable "
        "that holds it, or set prompts.api_key_required=false for a local server that needs no key"
    )


def _openai() -> Any:
    """The ``openai`` package (the ``llm`` extra)."""
    return require("openai", "llm", "prompts.backend=openai")


class ResponseTooLarge(BackendError):
    """A response body is larger than ``prompts.max_response_mb``: refused before it is read into memory."""


class RequestDeadline:
    """A total deadline for one request's body, on top of the client's per-read timeout, and a cap on its size.

    httpx's timeouts bound each read, so a server that sends its headers and then one byte per second never
    times out. :meth:`start` is called before each request; a response hook wraps the body so that reading it
    past the deadline raises :class:`httpx.ReadTimeout`, which the client turns into a timeout we retry. The
    check runs whenever a chunk arrives, so a request ends at most one read gap after ``seconds``. A body that
    announces, or reaches, more than ``max_bytes`` raises :class:`ResponseTooLarge` (a server answering 50 MB of
    sentences would otherwise fill ``prompts.json`` and the generation stage's memory).
    """

    def __init__(self, seconds: float, max_bytes: int) -> None:
        self.seconds = seconds
        self.max_bytes = max_bytes
        self.ends = float("inf")

    def start(self) -> None:
        self.ends = time.monotonic() + self.seconds

    def check(self, request: httpx.Request) -> None:
        if time.monotonic() > self.ends:
            raise httpx.ReadTimeout(f"no complete answer within {self.seconds:g} s", request=request)

    def refuse(self, size: int, request: httpx.Request) -> None:
        if size > self.max_bytes:
            raise ResponseTooLarge(
                f"the chat API at {strip_url_credentials(str(request.url))} sent more than "
                f"{self.max_bytes / 1e6:g} MB for one answer; check the server, or raise prompts.max_response_mb"
            )

    def on_response(self, response: httpx.Response) -> None:
        try:
            self.check(response.request)
            announced = response.headers.get("content-length", "")
            self.refuse(int(announced) if announced.isdigit() else 0, response.request)
        except (httpx.ReadTimeout, ResponseTooLarge):
            response.close()
            raise
        response.stream = _DeadlineStream(response.stream, self, response.request)


class _DeadlinePassed(Exception):
    """A request's total deadline passed before its answer was complete (headers included)."""


def within_deadline(seconds: float, call: Callable[[], Any]) -> Any:
    """``call()``'s result, or :class:`_DeadlinePassed` once ``seconds`` have passed, whatever the call is doing.

    The body deadline (:class:`RequestDeadline`) cannot see a server that trickles its status line and headers:
    no response exists yet, and each byte arrives within the per-read timeout. So the request runs in a daemon
    thread and the caller stops waiting at the deadline; the abandoned thread ends when the server gives up or
    its next read times out, and never keeps the process alive.
    """
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as error:  # handed to the caller below
            outcome["error"] = error

    worker = threading.Thread(target=run, name="dalda-chat-request", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise _DeadlinePassed
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


class _DeadlineStream(httpx.SyncByteStream):
    def __init__(self, inner: Any, deadline: RequestDeadline, request: httpx.Request) -> None:
        self._inner = inner
        self._deadline = deadline
        self._request = request

    def __iter__(self) -> Any:
        received = 0
        for chunk in self._inner:
            self._deadline.check(self._request)
            received += len(chunk)
            self._deadline.refuse(received, self._request)
            yield chunk

    def close(self) -> None:
        self._inner.close()


def make_client(settings: OpenAISettings, api_key: str, deadline: RequestDeadline | None = None) -> openai.OpenAI:
    """The official client for ``settings`` with its own retries off (this module retries).

    With ``deadline``, every response's body must arrive within it (:class:`RequestDeadline`).
    """
    openai = _openai()
    hooks = {"response": [deadline.on_response]} if deadline is not None else {}
    http_client = openai.DefaultHttpxClient(event_hooks=hooks)
    if settings.api_type == "azure":
        if not settings.base_url or not settings.api_version:
            raise BackendError(
                "prompts.api_type=azure needs prompts.base_url (the resource endpoint, "
                "https://<resource>.openai.azure.com) and prompts.api_version (e.g. 2024-06-01); "
                "prompts.model is the deployment name"
            )
        return openai.AzureOpenAI(
            api_key=api_key,
            azure_endpoint=settings.base_url,
            api_version=settings.api_version,
            timeout=settings.timeout_s,
            max_retries=0,
            http_client=http_client,
        )
    return openai.OpenAI(
        api_key=api_key,
        base_url=settings.base_url,
        timeout=settings.timeout_s,
        max_retries=0,
        http_client=http_client,
    )


class OpenAIChatBackend:
    """Chat completions with our own retry policy; see the module docstring. ``temperature`` and ``top_p`` are
    the sampling settings every LLM backend shares (``prompts.temperature``, ``prompts.top_p``)."""

    name = "openai"

    def __init__(
        self,
        settings: OpenAISettings,
        api_key: str,
        *,
        temperature: float,
        top_p: float,
        seed: int = 0,
        sleep: Callable[[float], None] = time.sleep,
        client: openai.OpenAI | None = None,
    ) -> None:
        self.settings = settings
        self.temperature = temperature
        self.top_p = top_p
        self.secrets: tuple[str, ...] = () if api_key == PLACEHOLDER_KEY else (api_key,)
        self._deadline = (
            RequestDeadline(settings.timeout_s, int(settings.max_response_mb * 1e6)) if client is None else None
        )
        self._client = client if client is not None else make_client(settings, api_key, self._deadline)
        self._sleep = sleep
        self._rng = random.Random(seed)
        self._where = strip_url_credentials(str(self._client.base_url).rstrip("/"))

    def complete(self, messages: list[ChatMessage]) -> ChatReply:
        cfg = self.settings
        request: dict[str, Any] = {
            "model": cfg.model,
            "messages": messages,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "frequency_penalty": cfg.frequency_penalty,
            "presence_penalty": cfg.presence_penalty,
        }
        if cfg.json_mode:
            request["response_format"] = {"type": "json_object"}
        tries = cfg.network_retries + 1
        reason = ""
        openai = _openai()
        for retry in range(tries):
            if self._deadline is not None:
                self._deadline.start()
            try:
                completion = within_deadline(
                    cfg.timeout_s + _DEADLINE_SLACK_S, lambda: self._client.chat.completions.create(**request)
                )
                if not hasattr(completion, "choices"):
                    raise _NotACompletion(completion)
            except _DeadlinePassed:
                reason = f"no answer within {cfg.timeout_s:g} s"
                wait = backoff_delay(retry, cfg.backoff_base_s, cfg.backoff_max_s, self._rng)
            except _NotACompletion as wrong:
                reason = f"HTTP 200 with {wrong.kind}, not a chat completion"
                wait = backoff_delay(retry, cfg.backoff_base_s, cfg.backoff_max_s, self._rng)
            except openai.APIError as error:
                reason, wait = self._transient_or_raise(error, retry)
            except ValueError as error:  # a 200 whose body is not JSON: not a chat API at this URL
                raise BackendError(
                    f"the chat API at {self._where} answered with a body that is not JSON "
                    f"({redact(str(error), self.secrets)}); check prompts.base_url (it should end in /v1)"
                ) from None
            else:
                return self._reply(completion, retries=retry)
            if retry + 1 < tries:
                log.warning("chat API: %s; retrying in %.2f s (retry %d of %d)", reason, wait, retry + 1, tries - 1)
                self._sleep(wait)
        raise BackendError(
            f"the chat API at {self._where} gave no answer after {tries} tries (last: {reason}); check that the "
            "server is up and prompts.base_url is right (it should end in /v1), or raise prompts.network_retries "
            "/ prompts.timeout_s"
        )

    def _transient_or_raise(self, error: openai.APIError, retry: int) -> tuple[str, float]:
        """(reason, seconds to wait) for a passing failure; raise :class:`BackendError` for a lasting one."""
        cfg = self.settings
        if isinstance(error.__cause__, ResponseTooLarge):  # the client wraps what a response hook raises
            raise error.__cause__ from None
        backoff = backoff_delay(retry, cfg.backoff_base_s, cfg.backoff_max_s, self._rng)
        openai = _openai()
        if isinstance(error, openai.APITimeoutError):
            return f"no answer within {cfg.timeout_s:g} s", backoff
        if isinstance(error, openai.APIConnectionError):
            return "could not connect", backoff
        if isinstance(error, openai.APIStatusError):
            status = error.status_code
            if status in _TRANSIENT_STATUS or status >= 500:
                asked = retry_after_seconds(error.response.headers)
                wait = backoff if asked is None else min(asked, cfg.backoff_max_s)
                label = "rate limited" if status == 429 else "server error"
                return f"HTTP {status} ({label})", wait
            if status == 401:
                raise BackendError(
                    f"the chat API at {self._where} rejected the API key (HTTP 401); check the key in the "
                    f"environment variable {cfg.api_key_env}"
                ) from None
            if status == 404:
                raise BackendError(
                    f"the chat API at {self._where} answered HTTP 404 ({self._server_says(error)}); check "
                    f"prompts.model={cfg.model!r} and prompts.base_url"
                ) from None
            raise BackendError(
                f"the chat API at {self._where} refused the request (HTTP {status}: {self._server_says(error)}); "
                "check prompts.model and the prompts sampling settings (json_mode, temperature, top_p, penalties)"
            ) from None
        raise BackendError(
            f"the chat API at {self._where} sent an answer that is not a chat completion "
            f"({type(error).__name__}: {self._server_says(error)}); check prompts.base_url"
        ) from None

    def _server_says(self, error: openai.APIError) -> str:
        """The server's error message, without secrets and short enough for one line."""
        text = re.sub(r"^Error code: \d+( - )?", "", str(error.message))  # the client's prefix; we say the status
        return " ".join(str(redact(text, self.secrets)).split())[:300] or "no message"

    def _reply(self, completion: Any, retries: int) -> ChatReply:
        choice = completion.choices[0] if completion.choices else None
        message = choice.message if choice is not None else None
        usage: dict[str, int] = {}
        if completion.usage is not None:
            for key in ("prompt_tokens", "completion_tokens", "total_tokens"):
                value = getattr(completion.usage, key, None)
                if isinstance(value, int):
                    usage[key] = value
        details = {
            "model": getattr(completion, "model", None),
            "id": getattr(completion, "id", None),
            "finish_reason": getattr(choice, "finish_reason", None),
            "network_retries": retries,
        }
        refusal = getattr(message, "refusal", None)
        if refusal:
            details["refusal"] = refusal
        return ChatReply(text=(getattr(message, "content", None) or ""), usage=usage, details=details)


class _NotACompletion(Exception):
    """The client returned something other than a completion object: the body of an HTTP 200 was not JSON."""

    def __init__(self, body: Any) -> None:
        super().__init__()
        self.kind = describe_body(body)


def describe_body(body: Any) -> str:
    """A few words on what an HTTP 200 body that is not a completion looks like (never the body itself)."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    start = text.lstrip()[:200].lower()
    if start.startswith(("<!doctype html", "<html")) or "<html" in start:
        return "an HTML page (a login page, a proxy or a web UI?)"
    if start.startswith(("data:", "event:")):
        return "an event stream (a streaming endpoint?)"
    printable = sum((ch.isprintable() or ch.isspace()) and ch != "\ufffd" for ch in text[:512])
    if text and printable < 0.9 * min(len(text), 512):
        return "binary data"
    return "a body that is not JSON"


def openai_fingerprint(config: DaldaConfig, settings: OpenAISettings) -> dict[str, Any]:
    """Model and sampling parameters: what the answers depend on (never the key itself, only its variable)."""
    return {
        "model": settings.model,
        "parameters": {
            "api_type": settings.api_type,
            "base_url": strip_url_credentials(settings.base_url) if settings.base_url else None,
            "api_version": settings.api_version,
            "temperature": config.prompts.temperature,
            "top_p": config.prompts.top_p,
            "frequency_penalty": settings.frequency_penalty,
            "presence_penalty": settings.presence_penalty,
            "json_mode": settings.json_mode,
            "api_key_env": settings.api_key_env,
        },
    }


def build_openai(config: DaldaConfig, settings: OpenAISettings) -> OpenAIChatBackend:
    return OpenAIChatBackend(
        settings,
        read_api_key(settings),
        temperature=config.prompts.temperature,
        top_p=config.prompts.top_p,
        seed=config.seed,
    )


def _key_variables(settings: OpenAISettings) -> tuple[str, ...]:
    return (settings.api_key_env,)


OPENAI = ChatBackendSpec(
    "openai",
    is_llm=True,
    fingerprint=openai_fingerprint,
    build=build_openai,
    settings_model=OpenAISettings,
    key_variables=_key_variables,
)
