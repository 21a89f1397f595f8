"""``synthetic/.parts/prepare-failed-<k>-of-<n>.json``: process ``k``'s share of the generator's preparation failed.

While several launched processes share out a generator's one-off preparation (``dalda.generation.preparation``),
a process whose share fails leaves this file, so the others stop with its message instead of waiting for units
that will never appear. The generate stage removes the files of earlier attempts before it starts. Read and
written by path (``dalda.generation.preparation.failure_marker``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dalda.artefacts.record import JsonRecord


@dataclass(frozen=True)
class PreparationFailure(JsonRecord):
    WHAT = "preparation failure"
    MADE_BY = "generate"

    process: int
    units: list[str]
    """The units of the failed share still unfinished."""
    error: str
    """``<exception type>: <message>``."""
    extra: dict[str, Any] = field(default_factory=dict)
