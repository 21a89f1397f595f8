"""How long to wait before re-sending a request that failed for a passing reason.

A server that says how long to wait (``Retry-After`` / ``retry-after-ms`` on HTTP 429 or 503) is obeyed, up to
a cap; otherwise waits grow exponentially with random jitter, so many clients that failed together do not
retry together.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime


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
