"""``report/manifest.json``: what a report holds, and which files in its folder dalda wrote.

Written by the report stage beside ``index.html``; read back when the next report replaces it, since only the
files a manifest says dalda wrote are ever replaced or deleted there (``dalda.report.install``).

Every version wrote ``title``, ``runs``, ``hc_threshold``, ``groups``, ``tables`` (one ``{kind: path}`` per
table, e.g. ``{"Markdown": "tables/runs.md", "CSV": "tables/runs.csv"}``) and ``figures`` (one
``{"file", "caption", "section"}`` per figure). Versions since the report stopped building in place also write
``files``: every file dalda wrote there, thumbnails included. For a manifest without that list the written files
are the tables' and figures' files plus ``index.html`` and the manifest itself (those versions made no
thumbnails). Keys this version does not know are kept (``extra``) and written back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dalda.artefacts._fields import from_mapping, to_mapping
from dalda.artefacts.errors import MissingArtefactError
from dalda.io import read_json, write_json_atomic

REPORT_MANIFEST = "manifest.json"
"""The manifest's name inside a report folder."""
_PAGE = "index.html"


@dataclass(frozen=True)
class ReportFigure:
    """One figure of the page, by its PNG file."""

    file: str
    """The PNG, relative to the report folder (``figures/<name>.png``)."""
    caption: str
    section: str
    """The page heading the figure is shown under."""
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, payload: Any, where: object) -> ReportFigure:
        figure = from_mapping(cls, payload, where)
        if not isinstance(figure.file, str):
            raise ValueError(f"{where}: 'file' is not a path")
        return figure

    def to_json(self) -> dict[str, Any]:
        return to_mapping(self)


@dataclass(frozen=True)
class ReportManifest:
    """What one report holds; :meth:`written_files` are the files the next report may replace or delete."""

    title: str
    runs: list[str]
    """The run directories the report was made from."""
    hc_threshold: float
    groups: dict[str, Any]
    """dataset -> its CLIPScore group (``dataset``, ``mean_score``, ``images``, ``group``)."""
    tables: list[dict[str, str]]
    """Per table file set, link text -> path relative to the report folder ({"Markdown": ..., "CSV": ...})."""
    figures: list[ReportFigure]
    files: list[str] | None = None
    """Every file dalda wrote in the report folder, relative to it; None in manifests written before the list."""
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, payload: Any, where: object = "a report manifest") -> ReportManifest:
        if not isinstance(payload, dict):
            raise ValueError(f"{where} is not a JSON object")
        figures = payload.get("figures")
        if not isinstance(figures, list):
            raise ValueError(f"{where}: 'figures' is not a list")
        typed = [ReportFigure.from_json(entry, f"{where}, a figure") for entry in figures]
        manifest = from_mapping(cls, {**payload, "figures": typed}, where)
        if not (isinstance(manifest.tables, list) and all(_is_links(entry) for entry in manifest.tables)):
            raise ValueError(f"{where}: 'tables' is not a list of {{kind: path}} objects")
        if manifest.files is not None and not _is_paths(manifest.files):
            raise ValueError(f"{where}: 'files' is not a list of paths")
        return manifest

    def to_json(self) -> dict[str, Any]:
        payload = to_mapping(self)
        payload["figures"] = [figure.to_json() for figure in self.figures]
        if payload.get("files") is None:  # a manifest read without the list is written back without it
            payload.pop("files", None)
        return payload

    def written_files(self) -> set[str]:
        """The paths (relative to the report folder) of every file this manifest says dalda wrote there."""
        if self.files is not None:
            return set(self.files)
        written = {_PAGE, REPORT_MANIFEST}
        for links in self.tables:
            written.update(links.values())
        written.update(figure.file for figure in self.figures)
        return written

    @classmethod
    def read(cls, folder: Path) -> ReportManifest:
        """The manifest of the report in ``folder``; ValueError when it is not a dalda report manifest."""
        path = Path(folder) / REPORT_MANIFEST
        if not path.is_file():
            raise MissingArtefactError("report manifest", path, "report")
        return cls.from_json(read_json(path), path)

    def write(self, folder: Path) -> None:
        write_json_atomic(Path(folder) / REPORT_MANIFEST, self.to_json())


def _is_links(value: Any) -> bool:
    return isinstance(value, dict) and _is_paths(list(value.values()))


def _is_paths(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(path, str) for path in value)
