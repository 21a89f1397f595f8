"""``synthetic/manifest.jsonl``: one line per finished synthetic image (``metadata.jsonl`` in runs made before).

A line holds the image's ``file_name`` (relative to ``synthetic/``), its plan row's fields, then the generation
settings that decided its pixels (the generator's ``manifest_settings``, e.g.
``dalda.generators.settings.sd_manifest_settings``; kept as an open mapping, since each generator records its own).

``source_path`` is written relative to the run directory (POSIX separators, e.g. ``data/cat/001.jpg`` or
``../photos/cat/001.jpg``) so a run can be moved or shared without leaking local paths; manifests written
before hold absolute paths and still load. Resolve it with :meth:`ManifestLine.source_file`. Lines hold no
empty mappings (an empty struct cannot be stored in Parquet, so ``Dataset.to_parquet`` would fail).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dalda.artefacts.record import JsonLinesRecord
from dalda.redact import redact_known
from dalda.rundir import RunDir


@dataclass(frozen=True)
class ManifestLine(JsonLinesRecord):
    """One finished image. Every field but ``file_name`` may be absent from lines an early version wrote."""

    WHAT = "synthetic images manifest"
    MADE_BY = "generate"

    file_name: str
    """The image, relative to ``synthetic/`` (POSIX separators)."""
    label: int | None = None
    """The class index, as in the plan and split (lines from early versions may lack it)."""
    class_name: str | None = None
    row_id: int | None = None
    source_path: str | None = None
    """The real image this one was made from: relative to the run directory, or absolute (older runs)."""
    source_index: int | None = None
    m: int | None = None
    prompt: str | None = None
    ip_scale: float | None = None
    generator: str = "ip-adapter"
    strength: float | None = None
    clipscore: float | None = None
    group: str | None = None
    seed: int | None = None
    scorer: str | None = None
    """The plan row's alignment scorer (``score.variant``); absent from lines written before it existed."""
    extra: dict[str, Any] = field(default_factory=dict)
    """The generation settings of the line (model ids, scheduler, steps, ...), in file order; in runs filtered
    by earlier versions also a ``filter`` column, which nothing reads any more (``synthetic/filter.jsonl``)."""

    @classmethod
    def file(cls, run: RunDir) -> Path:
        return run.manifest

    def to_json(self) -> dict[str, Any]:
        payload = super().to_json()
        if payload.get("scorer") is None:  # lines written before the field existed keep their bytes
            payload.pop("scorer", None)
        return parquet_safe(payload)

    def image_path(self, synthetic: Path) -> Path:
        return Path(synthetic) / self.file_name

    def source_file(self, run_root: Path) -> Path | None:
        """The real image this one was made from, as a path usable from here (``None`` when not recorded)."""
        if self.source_path is None:
            return None
        path = Path(self.source_path)
        return path if path.is_absolute() else Path(run_root) / path


def run_relative(path: str | Path, run_root: Path) -> str:
    """``path`` relative to the run directory with POSIX separators (absolute when no relative path exists,
    e.g. another drive on Windows); the form ``source_path`` takes in a manifest line."""
    absolute = os.path.abspath(os.fspath(path))
    try:
        return Path(os.path.relpath(absolute, os.path.abspath(os.fspath(run_root)))).as_posix()
    except ValueError:
        return Path(absolute).as_posix()


def table_rows(lines: Sequence[ManifestLine]) -> list[dict[str, Any]]:
    """The lines as a table's rows (Parquet, a ``datasets.Dataset``): each line's JSON object as the manifest
    writes it, every row with the same columns in first-seen order (null where a line lacks one), remembered
    secrets masked as in every file dalda writes."""
    payloads = [json.loads(redact_known(json.dumps(line.to_json(), ensure_ascii=False))) for line in lines]
    columns = list(dict.fromkeys(key for payload in payloads for key in payload))
    return [{column: payload.get(column) for column in columns} for payload in payloads]


def parquet_safe(payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` without empty mappings (Parquet cannot store an empty struct; a missing key reads as null)."""
    return {key: value for key, value in payload.items() if not (isinstance(value, dict) and not value)}
