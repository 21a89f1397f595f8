"""Reading the JSON object out of an LLM answer.

Chat models wrap JSON in code fences or add a sentence before or after it even when told not to, so the
parser looks for the object instead of demanding that the whole answer be JSON: first inside fenced blocks,
then at each ``{`` of the text, taking the first candidate that decodes to a JSON object.
"""

from __future__ import annotations

import json
import re
from typing import Any

_FENCE = re.compile(r"```[A-Za-z0-9_-]*[ \t]*\n?(.*?)```", re.DOTALL)
_MAX_CANDIDATES = 200


class AnswerNotJSON(ValueError):
    """The answer holds no JSON object."""


def extract_json_object(text: str) -> dict[str, Any]:
    """The first JSON object in ``text`` (fenced blocks first), or :class:`AnswerNotJSON` with a short reason."""
    if not text or not text.strip():
        raise AnswerNotJSON("the answer is empty")
    decoder = json.JSONDecoder()
    for block in _FENCE.findall(text):
        try:
            value = json.loads(block)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    starts = [match.start() for match in re.finditer(r"\{", text)][:_MAX_CANDIDATES]
    for start in starts:
        try:
            value, _ = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    preview = " ".join(text.split())[:80]
    raise AnswerNotJSON(f"the answer holds no JSON object (it begins {preview!r})")
