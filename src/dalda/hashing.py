"""Content digests every stage uses to tell whether a cached result still matches its inputs."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any


def file_sha256(path: Path) -> str:
    """sha256 hex digest of a file's bytes (an image is re-scored or re-encoded only when this changes)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def fingerprint(payload: Any) -> str:
    """sha256 hex digest of ``payload`` as canonical JSON (sorted keys), for settings that key a cache."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
