"""Content hashes used as cache keys: a file's bytes, and a JSON payload's canonical form.

Caches across stages (CLIPScores, learned DA-Fusion tokens) key on what an artefact was made from, never on
file names or times, so a renamed image reuses its work and an edited one is redone.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any


def file_sha256(path: Path) -> str:
    """sha256 hex digest of the file's bytes, read in 1 MiB chunks (phone photos need not fit in memory twice)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fingerprint(payload: Any) -> str:
    """sha256 hex digest of ``payload`` as canonical JSON (keys sorted), so equal settings give equal keys."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
