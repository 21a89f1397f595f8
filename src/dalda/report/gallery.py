"""What the runs generated, as the report shows it: the prompts per class, the prompts the validator flagged, and
the paged gallery of images.

- **Prompts per class**, per dataset: one table per distinct prompt set, read from the prompts artefacts of the
  first (shots, trial) cell (``collect.showcase_cells``): ``prompts.json`` (class -> sentences) and
  ``prompts_record.json`` (the source, backend and model that wrote them). Runs of a cell that share the same
  prompts (methods reading one shared prompts stage) are listed together above one table. A class with more
  than :data:`OPEN_UP_TO` prompts is folded (``<details>``), its first prompt showing.
- **Flagged prompts**: the sentences the prompt validator flagged in each run, and what was done with them
  (``prompts.validation``; ``dalda.prompts.validation``), as a table of the report's Tables section. Read from
  each run's ``prompts_record.json`` (``dalda.artefacts.PromptsRecord``), never recomputed. A run with no
  record, or a record older than the flag list, adds nothing; when no run has a flagged sentence the table is
  left out.
- **The gallery**: every class, each real image beside the synthetic images made from it, paged. Per dataset,
  the runs of the first (shots, trial) cell with synthetic images are shown together: one row per real image,
  its thumbnail first, then per method the images made from it (from ``synthetic/manifest.jsonl``, in the
  order of their ``m``). Each synthetic thumbnail carries its λ (or img2img strength) and seed as caption and
  the full prompt, λ, strength and seed as hover title.

  Thumbnails (at most :data:`THUMB_SIZE` px, JPEG) are written once per source file under ``thumbs/`` in the
  report folder and referenced by relative path, so the page stays small for 100 classes x 10 images; they
  load lazily, and classes are split into pages of :data:`CLASSES_PER_PAGE` with previous / next buttons (plain
  inline script; without script every page shows).
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import os
import shutil
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.request import pathname2url

from PIL import Image

from dalda.artefacts import PromptsRecord, PromptTable
from dalda.images import UnreadableImageError, load_rgb
from dalda.io import atomic_open
from dalda.report.collect import RunRecord, cell_title, dataset_title, run_scores, showcase_cells, synthetic_rows
from dalda.report.figures import PREFIX
from dalda.report.tables import Column, Table

log = logging.getLogger(__name__)


# -------------------------------------------------------------------------------------- prompts per class

OPEN_UP_TO = 3
"""Classes with at most this many prompts show them all; longer lists fold behind their first prompt."""
_HIDDEN_SETTINGS = {"classes"}


def prompt_source_text(record: RunRecord) -> str:
    """"source llm · backend template · …" from ``prompts_record.json`` (the config when there is no record)."""
    settings: dict[str, Any] = {"source": record.config.prompts.source}
    if record.config.prompts.source == "llm":
        settings["backend"] = record.config.prompts.backend
    status = None
    if record.run.prompts_record.is_file():
        try:
            written = PromptsRecord.read(record.run)
        except ValueError:
            written = None
        if written is not None:
            settings = {**settings, **written.settings}
            status = written.status
    shown = [
        f"{key} {value}"
        for key, value in settings.items()
        if key not in _HIDDEN_SETTINGS and isinstance(value, (str, int, float, bool)) and value != ""
    ]
    if status and status != "complete":
        shown.append(f"record {status}")
    return " · ".join(shown)


def _prompts(record: RunRecord) -> dict[str, list[str]] | None:
    try:
        return PromptTable.read(record.run).prompts
    except (OSError, ValueError):
        return None


def _class_row(name: str, prompts: list[str]) -> str:
    items = "".join(f"<li>{html.escape(str(prompt))}</li>" for prompt in prompts)
    if len(prompts) <= OPEN_UP_TO:
        cell = f"<ol>{items}</ol>"
    else:
        cell = f"<details><summary>{html.escape(str(prompts[0]))} …</summary><ol>{items}</ol></details>"
    return f"<tr><td>{html.escape(name)}</td><td class='num'>{len(prompts)}</td><td class='prompts'>{cell}</td></tr>"


def prompt_tables_html(records: Sequence[RunRecord]) -> str | None:
    """The section's HTML (trusted: every value escaped here), or None when no run has ``prompts.json``."""
    parts = []
    for dataset, cell in showcase_cells(records, lambda record: record.run.prompts.is_file()):
        sets: dict[str, tuple[dict[str, list[str]], str, list[str]]] = {}
        for record in cell:
            prompts = _prompts(record)
            if prompts is None:
                continue
            source = prompt_source_text(record)
            key = json.dumps([prompts, source], sort_keys=True)
            sets.setdefault(key, (prompts, source, []))[2].append(record.label.title)
        for prompts, source, methods in sets.values():
            count = sum(len(values) for values in prompts.values())
            parts.append(
                f"<h3>{html.escape(dataset_title(dataset))}, {html.escape(cell_title(cell))}: "
                f"{html.escape(', '.join(methods))}</h3>"
                f"<p class='note'>{len(prompts)} classes, {count} prompts; {html.escape(source)}</p>"
                "<table class='prompt-table'><thead><tr><th>Class</th><th class='num'>#</th><th>Prompts</th></tr>"
                "</thead>"
                f"<tbody>{''.join(_class_row(name, list(values)) for name, values in prompts.items())}</tbody></table>"
            )
    return "".join(parts) or None


# ---------------------------------------------------------------------------------------- flagged prompts

MAX_ROWS = 200
"""Rows shown at most; the counts in the notes always cover every flagged sentence."""


def flagged_prompts_table(records: Sequence[RunRecord], base: Path, key: str) -> Table | None:
    """One row per flagged sentence (run, class, sentence, reason, action), with the counts per action."""
    rows: list[list[str | int | float | None]] = []
    actions: Counter[str] = Counter()
    modes: Counter[str] = Counter()
    for record in records:
        if not record.run.prompts_record.is_file():
            continue
        try:
            prompts = PromptsRecord.read(record.run)
        except (OSError, ValueError):
            continue
        modes[prompts.validation] += 1
        where = os.path.relpath(record.root, base)
        for flag in prompts.flagged:
            actions[str(flag.get("action"))] += 1
            rows.append([
                where, str(flag.get("class")), flag.get("round"), str(flag.get("sentence")),
                str(flag.get("reason")), str(flag.get("action")),
            ])  # fmt: skip
    if not rows:
        return None
    counts = ", ".join(f"{count} {action}" for action, count in sorted(actions.items()))
    used = ", ".join(f"{mode} ({count} run{'' if count == 1 else 's'})" for mode, count in sorted(modes.items()))
    notes = [
        f"{len(rows)} sentence(s) flagged by the prompt validator: {counts}. prompts.validation: {used}. "
        "'asked again': the LLM was asked for another sentence (repair); 'kept': the sentence was used (warn).",
        "The validator is a word heuristic (dalda.chat.request); each run's prompts_record.json lists the same rows.",
    ]
    if len(rows) > MAX_ROWS:
        notes.append(f"Only the first {MAX_ROWS} rows are shown.")
    columns = [Column(name) for name in ("Run", "Class", "Round", "Sentence", "Reason", "Action")]
    return Table(key, "Flagged prompts", columns, rows[:MAX_ROWS], notes)


# ------------------------------------------------------------------------------------------------ gallery

THUMB_SIZE = 128
CLASSES_PER_PAGE = 10
THUMBS = "thumbs"

_SCRIPT = """<script>
(function () {
  document.querySelectorAll('.pager').forEach(function (pager) {
    var pages = pager.querySelectorAll(':scope > .gallery-page');
    var label = pager.querySelector('.page-label');
    var prev = pager.querySelector('button.prev');
    var next = pager.querySelector('button.next');
    var current = 0;
    function show(index) {
      current = Math.max(0, Math.min(pages.length - 1, index));
      pages.forEach(function (page, i) { page.hidden = i !== current; });
      label.textContent = 'page ' + (current + 1) + ' of ' + pages.length;
      prev.disabled = current === 0;
      next.disabled = current === pages.length - 1;
    }
    prev.addEventListener('click', function () { show(current - 1); });
    next.addEventListener('click', function () { show(current + 1); });
    pager.querySelector('.pager-controls').hidden = pages.length < 2;
    show(0);
  });
})();
</script>"""

_STYLE = """<style>
.gallery-class h4 { margin: 0.8em 0 0.3em; }
.gallery-row { display: flex; flex-wrap: wrap; align-items: flex-start; gap: 0.6em; margin-bottom: 0.6em;
  padding-bottom: 0.4em; border-bottom: 1px solid #eee; }
.gallery-row figure { margin: 0; width: 128px; }
.gallery-row figure img { width: 128px; height: auto; display: block; border: 1px solid #ddd; }
.gallery-row figure.real img { border: 2px solid #222; }
.gallery-row figcaption { font-size: 0.7em; color: #555; overflow-wrap: anywhere; }
.gallery-method { border-left: 3px solid #ccc; padding-left: 0.4em; }
.gallery-method .method-name { font-size: 0.75em; font-weight: bold; color: #333; margin-bottom: 0.2em; }
.gallery-method .method-images { display: flex; flex-wrap: wrap; gap: 0.3em; align-items: flex-start; }
.pager-controls { margin: 0.5em 0; }
.pager-controls button { margin: 0 0.5em; }
</style>"""


@dataclass(frozen=True)
class Thumb:
    src: str
    """``thumbs/<name>.jpg``, relative to the report folder."""
    width: int
    height: int
    full: str
    """The full-size source image as a URL relative to the report folder (the report is built in a sibling of
    ``report/``, ``dalda.report.install``, so the relative path holds once it is moved in)."""


class Thumbnails:
    """Makes each thumbnail once (keyed by the source file) under ``folder/thumbs`` and gives its relative path.

    A thumbnail's name is a digest of the source's resolved path, size, modification time and the thumbnail size;
    when ``previous`` (the report being replaced) already holds a thumbnail of that name, it is copied instead of
    decoding the source again, so rebuilding a report only makes thumbnails of new or changed images.
    """

    def __init__(self, folder: Path, size: int = THUMB_SIZE, previous: Path | None = None) -> None:
        self.folder = Path(folder)
        self.size = size
        self.previous = None if previous is None else Path(previous)
        self._made: dict[str, Thumb | None] = {}

    def __call__(self, source: str | Path) -> Thumb | None:
        """The thumbnail of ``source`` (made on first use), or None when the image cannot be read."""
        key = os.path.realpath(source)
        if key not in self._made:
            self._made[key] = self._make(Path(key))
        return self._made[key]

    def _make(self, source: Path) -> Thumb | None:
        try:
            stat = source.stat()
        except OSError as error:
            log.warning("gallery: no thumbnail for %s (%s)", source, error)
            return None
        identity = f"{source}\0{stat.st_size}\0{stat.st_mtime_ns}\0{self.size}"
        name = f"{hashlib.sha1(identity.encode()).hexdigest()[:16]}.jpg"
        target = self.folder / THUMBS / name
        target.parent.mkdir(parents=True, exist_ok=True)
        reused = self._reuse(name, target, source)
        if reused is not None:
            return reused
        try:
            image = load_rgb(source)
        except UnreadableImageError as error:
            log.warning("gallery: no thumbnail for %s (%s)", source, error)
            return None
        image.thumbnail((self.size, self.size), Image.Resampling.LANCZOS)
        with atomic_open(target, "wb") as handle:
            image.save(handle, format="JPEG", quality=85)
        return Thumb(f"{THUMBS}/{name}", image.width, image.height, self._full(source))

    def _full(self, source: Path) -> str:
        """The link a thumbnail opens: the source file relative to the report folder, as a URL path."""
        return pathname2url(os.path.relpath(source, self.folder))

    def _reuse(self, name: str, target: Path, source: Path) -> Thumb | None:
        """The previous report's thumbnail of the same name, copied to ``target``; None when there is none."""
        old = None if self.previous is None else self.previous / THUMBS / name
        if old is None or not old.is_file():
            return None
        try:
            with Image.open(old) as image:
                width, height = image.size
            shutil.copyfile(old, target)
        except OSError:
            return None
        return Thumb(f"{THUMBS}/{name}", width, height, self._full(source))


def image_title(row: dict[str, Any]) -> str:
    """The hover text of a synthetic image: prompt, λ or strength, seed, file."""
    lines = [f"prompt: {row.get('prompt', '')}"]
    if isinstance(row.get("ip_scale"), (int, float)):
        lines.append(f"λ = {row['ip_scale']:.4f}")
    if isinstance(row.get("strength"), (int, float)):
        lines.append(f"strength = {row['strength']:g}")
    if row.get("seed") is not None:
        lines.append(f"seed = {row['seed']}")
    lines.append(f"file: synthetic/{row.get('file_name', '')}")
    return "\n".join(lines)


def image_caption(row: dict[str, Any], width: int = 60) -> str:
    """λ (or strength) and seed, then the prompt without the quality prefix, cut to ``width`` characters."""
    guide = []
    if isinstance(row.get("strength"), (int, float)):
        guide.append(f"strength {row['strength']:g}")
    elif isinstance(row.get("ip_scale"), (int, float)):
        guide.append(f"λ {row['ip_scale']:.2f}")
    if row.get("seed") is not None:
        guide.append(f"seed {row['seed']}")
    prompt = str(row.get("prompt", "")).removeprefix(PREFIX)
    if len(prompt) > width:
        prompt = prompt[: width - 1].rstrip() + "…"
    return f"{' · '.join(guide)}<br>{html.escape(prompt)}"


def _figure(thumb: Thumb | None, title: str, caption: str, css: str = "") -> str:
    if thumb is None:
        image = "<span class='note'>(unreadable)</span>"
    else:
        image = (
            f'<a class="full-size" href="{html.escape(thumb.full)}" target="_blank" rel="noopener">'
            f'<img src="{html.escape(thumb.src)}" width="{thumb.width}" height="{thumb.height}" loading="lazy" '
            f'alt="{html.escape(title)}" title="{html.escape(title)}"></a>'
        )
    return f"<figure class='{css}'>{image}<figcaption>{caption}</figcaption></figure>"


def _class_blocks(cell: Sequence[RunRecord], thumbs: Thumbnails) -> list[str]:
    """One block per class: a row per real image, its synthetic images per method beside it."""
    by_class: dict[tuple[int, str], dict[str, dict[str, list[dict[str, Any]]]]] = {}
    first_seen: dict[str, tuple[int, int]] = {}
    scores: dict[str, float] = {}
    for record in cell:
        scores.update(run_scores(record))
        for row in synthetic_rows(record):
            source = row.get("source_path")
            if source is None:
                continue
            label = row.get("label") if isinstance(row.get("label"), int) else -1
            key = (label, str(row.get("class_name", "")))
            by_class.setdefault(key, {}).setdefault(source, {}).setdefault(record.method, []).append(row)
            first_seen.setdefault(source, (int(row.get("source_index") or 0), len(first_seen)))
    blocks = []
    for (_, class_name), sources in sorted(by_class.items()):
        rows = []
        for source in sorted(sources, key=first_seen.__getitem__):
            score = scores.get(os.path.realpath(source))
            score_text = "" if score is None else f" · score {score:.3f}"
            real = _figure(thumbs(source), f"real image: {Path(source).name}{score_text}",
                           f"real: {html.escape(Path(source).name)}{score_text}", "real")  # fmt: skip
            methods = []
            for record in cell:
                mine = sorted(sources[source].get(record.method, []), key=lambda r: (r.get("m") or 0, r.get("row_id") or 0))
                if not mine:
                    continue
                figures = "".join(_figure(thumbs(row["path"]), image_title(row), image_caption(row)) for row in mine)
                name = html.escape(record.label.title)
                methods.append(
                    f"<div class='gallery-method'><div class='method-name'>{name}</div>"
                    f"<div class='method-images'>{figures}</div></div>"
                )
            rows.append(f"<div class='gallery-row'>{real}{''.join(methods)}</div>")
        count = sum(len(images) for per_method in sources.values() for images in per_method.values())
        blocks.append(
            f"<div class='gallery-class'><h4>{html.escape(class_name)} "
            f"<span class='note'>({len(sources)} real, {count} synthetic)</span></h4>{''.join(rows)}</div>"
        )
    return blocks


def _pager(blocks: list[str], per_page: int) -> str:
    pages = [blocks[start : start + per_page] for start in range(0, len(blocks), per_page)]
    controls = (
        "<div class='pager-controls'><button type='button' class='prev'>← previous</button>"
        f"<span class='page-label'>page 1 of {len(pages)}</span>"
        "<button type='button' class='next'>next →</button></div>"
    )
    body = "".join(
        f"<div class='gallery-page' data-page='{number}'>{''.join(page)}</div>" for number, page in enumerate(pages, 1)
    )
    return f"<div class='pager'>{controls}{body}</div>"


def gallery_html(
    records: Sequence[RunRecord], folder: Path, per_page: int = CLASSES_PER_PAGE, previous: Path | None = None
) -> str | None:
    """The gallery section's HTML (trusted: every value escaped here), writing its thumbnails under ``folder``
    (reusing those of the report ``previous`` where the source is unchanged); None when no run has synthetic
    images."""
    thumbs = Thumbnails(folder, previous=previous)
    parts = []
    for dataset, cell in showcase_cells(records, lambda record: bool(synthetic_rows(record))):
        blocks = _class_blocks(cell, thumbs)
        if not blocks:
            continue
        methods = ", ".join(record.label.title for record in cell)
        parts.append(
            f"<h3>{html.escape(dataset_title(dataset))}, {html.escape(cell_title(cell))}: {html.escape(methods)}</h3>"
            f"<p class='note'>{len(blocks)} classes, {per_page} per page; hover an image for its prompt, λ and seed; "
            "click it for the full-size image."
            f"</p>{_pager(blocks, per_page)}"
        )
    if not parts:
        return None
    return _STYLE + "".join(parts) + _SCRIPT
