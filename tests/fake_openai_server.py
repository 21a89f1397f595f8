"""A scripted OpenAI-compatible chat server on 127.0.0.1 for tests of the ``openai`` prompt backend.

It serves ``POST .../chat/completions`` (the OpenAI path ``/v1/chat/completions`` and Azure's
``/openai/deployments/<name>/chat/completions``) from a queue of scripted replies, and records every request
(path, headers, JSON body) so tests can check what was asked. A scripted reply is a :class:`Reply` or a
function of the request body returning one (e.g. "answer exactly the classes asked for").

Bounded and self-stopping: it answers at most ``max_requests`` requests, shuts itself down after
``lifetime_s`` seconds, interrupts scripted delays on shutdown, and answers HTTP 418 (a client error our
backend does not retry) once the script is used up, so a test that asks too much fails loudly and fast.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict -> JSON; str -> sent as is
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    content_type: str = "application/json"
    trickle_s: float = 0.0  # > 0: send the body one byte at a time, this long apart (until the client leaves)
    trickle_headers: bool = False  # with trickle_s: the status line and headers trickle too, not only the body
    echo_key: bool = False  # replace "{KEY}" in the body with the bearer token the request carried


@dataclass
class Request:
    path: str
    headers: dict[str, str]  # lower-case names
    body: dict[str, Any]
    received_at: float  # time.monotonic() when the request arrived

    @property
    def user_message(self) -> str:
        return next(m["content"] for m in self.body["messages"] if m["role"] == "user")


Script = Reply | Callable[[dict[str, Any]], Reply]


def completion(content: str, prompt_tokens: int = 100, completion_tokens: int = 20) -> Reply:
    """A successful chat completion whose message is ``content``."""
    return Reply(
        body={
            "id": f"chatcmpl-fake-{time.monotonic_ns()}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": "fake-model",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
    )


def json_answer(sentences: dict[str, str], fenced: bool = False) -> Reply:
    text = json.dumps(sentences)
    return completion(f"Here you go:\n```json\n{text}\n```\nEnjoy!" if fenced else text)


def error(status: int, message: str, headers: dict[str, str] | None = None, delay_s: float = 0.0) -> Reply:
    return Reply(status=status, body={"error": {"message": message, "type": "fake", "code": None}},
                 headers=headers or {}, delay_s=delay_s)


def requested_classes(body: dict[str, Any]) -> list[str]:
    """The classes a request asks for: the 'only' list of a repair request, else the full class list."""
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    for line in user.split("\n\n"):
        if line.startswith("Write one sentence for each of these"):
            return json.loads(line.split(": ", 1)[1])
    for line in user.split("\n\n"):
        if line.startswith("Classes of the dataset"):
            return json.loads(line.split(": ", 1)[1])
    raise AssertionError(f"no class list in the request: {user[:200]!r}")


def answer_all(template: str = "A photo of a {} on a red sofa.") -> Callable[[dict[str, Any]], Reply]:
    """A reply function answering every requested class with a valid sentence."""
    return lambda body: json_answer({name: template.format(name) for name in requested_classes(body)})


class FakeOpenAIServer:
    """Use as a context manager; ``url`` is the ``base_url`` to configure (``.../v1``)."""

    def __init__(self, script: list[Script], *, max_requests: int = 200, lifetime_s: float = 60.0) -> None:
        self.script = list(script)
        self.requests: list[Request] = []
        self.max_requests = max_requests
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._timer = threading.Timer(lifetime_s, self.stop)
        self._timer.daemon = True

    @property
    def root(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        return self.root + "/v1"

    @property
    def remaining(self) -> int:
        return len(self.script)

    def __enter__(self) -> FakeOpenAIServer:
        self._thread.start()
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        self._timer.cancel()
        self._server.shutdown()
        self._server.server_close()

    def _next_reply(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            if len(self.requests) > self.max_requests:
                return error(418, f"fake server: more than {self.max_requests} requests")
            if not self.script:
                return error(418, f"fake server: script used up after {len(self.requests) - 1} requests")
            item = self.script.pop(0)
        return item(body) if callable(item) else item

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                body = json.loads(raw) if raw else {}
                if not self.path.split("?")[0].endswith("/chat/completions"):
                    self._send(error(404, f"fake server: no route {self.path}"))
                    return
                with server._lock:
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    server.requests.append(Request(self.path, headers, body, time.monotonic()))
                reply = server._next_reply(body)
                if reply.delay_s and server._stop.wait(reply.delay_s):
                    return
                self._send(reply, headers.get("authorization", "").removeprefix("Bearer "))

            def _send(self, reply: Reply, key: str = "") -> None:
                if isinstance(reply.body, bytes):
                    data = reply.body
                else:
                    payload = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
                    data = (payload.replace("{KEY}", key) if reply.echo_key else payload).encode("utf-8")
                try:
                    if reply.trickle_headers:
                        head = (f"{self.protocol_version} {reply.status} OK\r\nContent-Type: {reply.content_type}\r\n"
                                f"Content-Length: {len(data)}\r\n\r\n").encode("latin-1")
                        for index in range(len(head + data)):  # bounded by the reply's length and the lifetime
                            self.wfile.write((head + data)[index:index + 1])
                            self.wfile.flush()
                            if server._stop.wait(reply.trickle_s):
                                return
                        return
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    if reply.trickle_s <= 0:
                        self.wfile.write(data)
                        return
                    for index in range(len(data)):  # bounded by the body's length and the server's lifetime
                        self.wfile.write(data[index:index + 1])
                        self.wfile.flush()
                        if server._stop.wait(reply.trickle_s):
                            return
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test); nothing to answer

            def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
                pass

        return Handler
