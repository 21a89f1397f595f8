"""One self-contained HTML page: every figure embedded as a base64 PNG, so the file opens alone anywhere.

Each embedded image also names its file (``data-file``, relative to the report folder) and each table links
its Markdown and CSV files, so a reader can find the originals and tests can check the page against them.
Sections given as HTML (the prompt table, the gallery) come last; the gallery's thumbnails are files beside the
page (``thumbs/``, ``dalda.report.gallery``), so the page with its folder is what to copy or share.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dalda.report.tables import Table

_STYLE = """
.banner { background: #b00020; color: #fff; font-weight: bold; font-size: 1.2em; padding: 0.8em 1em; margin: 1em 0; }
table.provenance td { text-align: left; }
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f3f3f3; }
figure { margin: 1em 0; }
figure img { max-width: 100%; border: 1px solid #eee; }
figcaption, .note { font-size: 0.85em; color: #555; }
.failed { color: #b00; }
td.prompts, table.prompt-table th:last-child { text-align: left; }
td.prompts ol { margin: 0; padding-left: 1.4em; }
"""


@dataclass(frozen=True)
class FigureEntry:
    file: str
    """Path relative to the report folder."""
    caption: str
    section: str


def embedded_image(folder: Path, entry: FigureEntry) -> str:
    data = base64.b64encode((folder / entry.file).read_bytes()).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" data-file="{html.escape(entry.file)}" '
        f'alt="{html.escape(entry.caption)}"><figcaption>{html.escape(entry.caption)}</figcaption></figure>'
    )


def table_block(table: Table, files: dict[str, str]) -> str:
    links = " · ".join(f'<a href="{html.escape(path)}">{kind}</a>' for kind, path in files.items())
    return f"<h3>{html.escape(table.title)}</h3><p class='note'>{links}</p>{table.html()}"


def render_page(
    folder: Path,
    title: str,
    overview: str,
    tables: list[tuple[Table, dict[str, str]]],
    figures: list[FigureEntry],
    blocks: Sequence[str] = (),
    extra: Sequence[tuple[str, str]] = (),
) -> str:
    """The page: overview (trusted HTML built by the caller), then tables, then ``blocks`` (trusted HTML
    sections), then figures grouped by section, then ``extra`` ((heading, trusted HTML built by the caller),
    e.g. the prompt table and the gallery)."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        overview,
    ]
    if tables:
        parts.append("<h2>Tables</h2>")
        parts += [table_block(table, files) for table, files in tables]
    parts += list(blocks)
    sections = list(dict.fromkeys(entry.section for entry in figures))
    for section in sections:
        parts.append(f"<h2>{html.escape(section)}</h2>")
        parts += [embedded_image(folder, entry) for entry in figures if entry.section == section]
    for heading, body in extra:
        parts += [f"<h2>{html.escape(heading)}</h2>", body]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
