"""Hostile modes of the fake OpenAI-compatible server (``tests/fake_openai_server.py``), for ``tests/hostile/``.

Each function returns one scripted :class:`Reply`: a server that sends its headers and then trickles the body
one byte at a time (or trickles its headers too), HTTP 200 answers whose body is an HTML page, an event stream
or binary data, and a server
that echoes the caller's API key inside otherwise valid sentences. The server binds 127.0.0.1 only and stops
itself (bounded requests and lifetime).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fake_openai_server import Reply, completion, requested_classes


def trickle(seconds_per_byte: float = 1.0) -> Reply:
    """A valid completion whose body arrives one byte per ``seconds_per_byte`` (headers at once)."""
    reply = completion('{"cat": "A cat."}')
    reply.trickle_s = seconds_per_byte
    return reply


def trickle_headers(seconds_per_byte: float = 1.0) -> Reply:
    """A valid completion whose status line and headers, then body, arrive one byte per ``seconds_per_byte``: no
    read ever waits long, so only a total deadline per request ends it."""
    reply = trickle(seconds_per_byte)
    reply.trickle_headers = True
    return reply


def html_200() -> Reply:
    return Reply(body="<!DOCTYPE html><html><body><h1>Sign in</h1></body></html>", content_type="text/html")


def event_stream_200() -> Reply:
    return Reply(body='data: {"choices": []}\n\ndata: [DONE]\n\n', content_type="text/event-stream")


def binary_200() -> Reply:
    return Reply(body=bytes(range(256)) * 4, content_type="application/octet-stream")


def key_echo(template: str = "A photo of a {} (served for {{KEY}}).") -> Callable[[dict[str, Any]], Reply]:
    """Answer every requested class with a valid sentence that quotes the bearer token the request carried."""

    def reply(body: dict[str, Any]) -> Reply:
        answer = completion(json.dumps({name: template.format(name) for name in requested_classes(body)}))
        answer.body = json.dumps(answer.body)
        answer.echo_key = True
        return answer

    return reply
