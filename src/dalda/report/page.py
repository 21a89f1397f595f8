"""The HTML page: its frame and the sections that are page-only, not a table file or a figure of their own.

- **The frame** (:func:`render_page`): one self-contained HTML page, every figure embedded as a base64 PNG, so
  the file opens alone anywhere. Each embedded image also names its file (``data-file``, relative to the report
  folder) and each table links its Markdown and CSV files, so a reader can find the originals and tests can
  check the page against them. Sections given as HTML (the prompt table, the gallery) come last; the gallery's
  thumbnails are files beside the page (``thumbs/``, ``gallery.py``), so the page with its folder is what to
  copy or share.
- **The overview** at the top: how the runs were made (a header table, one row per distinct setting, where each
  run shows the generator that ran with its own resolved settings: its checkpoints and sampler, so a DA-Fusion
  run names no IP-Adapter; and a loud banner when any run used random models (``tiny``, ``full-random``), whose
  images and accuracies mean nothing), the wall time and throughput of each stage, the datasets with their CLIPScore group, and the
  experiment's failed cells.
- **Wall time per stage**: the times come from the runs' ``history.jsonl`` (``dalda.ownership``: one ``stage``
  entry per finished stage), summed over every attempt, so a generation resumed three times counts all three;
  the counts are what the stage leaves on disk (scores, prompts, plan rows, synthetic images, filter
  decisions), so ``items / seconds`` is the rate over the whole run whatever was resumed. Stages without a
  natural unit (data, train, evaluate) show their time only. In an experiment, cells share their split,
  scores and prompts (``dalda.experiments``): a shared stage is timed where it ran and its items are counted
  once per cell, so its rate is an upper bound there.
- **Sortable tables**: a reader sorts by clicking a column header, with a few lines of inline JavaScript (the
  page stays self-contained). Every cell carries its raw value in ``data-value``, so numbers sort as numbers
  whatever their rounding on screen; empty cells (no value) always sort last. A second click on the same
  header reverses the order; ``aria-sort`` says which order is shown.
- **The accuracy section**, per run and classifier: a collapsible block (open for a single run) with a sortable
  table of per-class accuracy (real images only (reference), zero-shot CLIP (reference), the run, and the gain
  over real only), also written to ``tables/per_class_<run>_<classifier>.csv``; a bar chart of the per-class
  gain over real only; the top confusions (true -> predicted, count, share), every confusion in
  ``tables/confusions_<run>_<classifier>.csv``, and a heat-map for up to 30 classes; loss and accuracy per epoch.
  Charts are drawn for the first ``MAX_CHARTED`` run/classifier blocks (in table order) so an experiment's page
  stays a reasonable size; the CSV files are written for every block.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from dalda.artefacts import ReportFigure
from dalda.artefacts.provenance import RANDOM_BUILT_IN_CODE
from dalda.config import DaldaConfig
from dalda.generators import generator_settings
from dalda.generators.settings import StableDiffusionSettings
from dalda.io import read_json, read_jsonl, write_text_atomic
from dalda.ownership import history
from dalda.report.collect import DatasetGroup, RunRecord, classifier_title, classifiers_of, dataset_title
from dalda.report.figures import curves_chart, gain_chart, heatmap
from dalda.report.run_record import run_record_html, stage_records
from dalda.report.tables import (
    NUM,
    PER_CLASS_HEADERS,
    RunAccuracy,
    Table,
    confusions_csv,
    gain_sentence,
    is_number,
    load_run_accuracy,
    per_class_csv,
    per_class_rows,
    run_label,
    top_confusions,
)
from dalda.rundir import RunDir


# ---------------------------------------------------------------------------------------------- the frame

_STYLE = """
.banner { background: #b00020; color: #fff; font-weight: bold; font-size: 1.2em; padding: 0.8em 1em; margin: 1em 0; }
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
th.num, td.num { text-align: right; font-variant-numeric: tabular-nums; }
nav.toc { border: 1px solid #ddd; background: #fafafa; padding: 0.5em 1em; margin: 1em 0; }
nav.toc ol { margin: 0.3em 0; padding-left: 1.4em; }
th { background: #f3f3f3; }
figure { margin: 1em 0; }
figure img { max-width: 100%; border: 1px solid #eee; }
figcaption, .note { font-size: 0.85em; color: #555; }
.failed { color: #b00; }
td.prompts ol { margin: 0; padding-left: 1.4em; }
"""


def embedded_image(folder: Path, entry: ReportFigure) -> str:
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
    figures: list[ReportFigure],
    blocks: Sequence[str] = (),
    extra: Sequence[tuple[str, str]] = (),
) -> str:
    """The page: overview (trusted HTML built by the caller), then tables, then ``blocks`` (trusted HTML
    sections), then figures grouped by section, then ``extra`` ((heading, trusted HTML built by the caller),
    e.g. the prompt table and the gallery)."""
    parts = [overview]
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
    contents, body = with_contents("\n".join(parts))
    head = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        contents,
    ]
    return "\n".join([*head, body, "</body></html>"]) + "\n"


_H2 = re.compile(r"<h2(?P<attrs>[^>]*)>(?P<text>.*?)</h2>", re.S)


def with_contents(body: str) -> tuple[str, str]:
    """A table of contents linking every ``<h2>`` of ``body`` (trusted HTML), and ``body`` with an ``id`` on each
    heading; a long page (tables, figures, a gallery of every class) is read by jumping, not scrolling."""
    entries: list[str] = []

    def anchor(match: re.Match[str]) -> str:
        target = f"section-{len(entries) + 1}"
        entries.append(f"<li><a href='#{target}'>{match['text']}</a></li>")
        return f"<h2 id='{target}'{match['attrs']}>{match['text']}</h2>"

    anchored = _H2.sub(anchor, body)
    if not entries:
        return "", anchored
    return f"<nav class='toc'><strong>Contents</strong><ol>{''.join(entries)}</ol></nav>", anchored


# ------------------------------------------------------------------------------------------- the overview

def overview_html(
    records: list[RunRecord], groups: dict[str, DatasetGroup], threshold: float, summary: dict[str, Any] | None
) -> str:
    """The top of the page as trusted HTML: how the runs were made and how long each stage took, the datasets
    with their CLIPScore group (HC at ``threshold``), and the failed cells an experiment's ``summary`` lists."""
    parts = [provenance_html(records), "<h2>Datasets</h2><table><thead><tr>"]
    parts.append(
        f"<th>Dataset</th><th{NUM}>mean CLIPScore</th><th{NUM}>scored images</th><th>group</th></tr></thead><tbody>"
    )
    for group in groups.values():
        mean = "–" if group.mean_score is None else f"{group.mean_score:.4f}"
        parts.append(
            f"<tr><td>{html.escape(dataset_title(group.dataset))}</td><td{NUM}>{mean}</td>"
            f"<td{NUM}>{group.images}</td><td>{group.group or '–'}</td></tr>"
        )
    parts.append(
        f"</tbody></table><p class='note'>HC (high CLIPScore) when the dataset's mean CLIPScore is at least "
        f"{threshold:g}, else LC; the paper's HC datasets score 0.84 / 0.78 and its LC dataset 0.55.</p>"
    )
    failed = [cell for cell in (summary or {}).get("cells", []) if cell.get("status") == "failed"]
    if failed:
        parts.append(f"<h2 class='failed'>Failed cells ({len(failed)})</h2><ul>")
        parts += [
            f"<li class='failed'>{html.escape(str(cell.get('run_dir')))}: {html.escape(str(cell.get('error')))}</li>"
            for cell in failed
        ]
        parts.append("</ul>")
    return "".join(parts)


RANDOM_PROFILES = ("tiny", "full-random")
PROVENANCE_COLUMNS = (
    "profile", "checkpoints", "revisions", "generation", "prompts", "protocol", "seed", "dalda", "runs",
)  # fmt: skip


def dalda_version() -> str:
    try:
        return metadata.version("dalda")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


CHECKPOINT_LABELS = {"sd_model": "SD", "vae": "VAE", "ip_adapter": "IP-Adapter", "image_encoder": "image encoder"}
"""How the provenance header names each checkpoint a Stable Diffusion generator records."""


def _generator_setting(config: DaldaConfig) -> tuple[list[str], str]:
    """The checkpoints and the sampling of the generator that ran, from its own resolved settings (a generator
    without Stable Diffusion settings shows its name and its settings)."""
    name = config.generator.name
    settings = generator_settings(config)
    if not isinstance(settings, StableDiffusionSettings):
        values = ", ".join(f"{key}={value}" for key, value in settings.model_dump().items())
        return [], name + (f" ({values})" if values else "")
    checkpoints = [
        f"{CHECKPOINT_LABELS.get(key, key)} {value}" for key, value in settings.checkpoint_record().items() if value
    ]
    made = (
        f"{name}, {settings.scheduler} {settings.steps} steps, {settings.resolution} px, "
        f"guidance {settings.guidance_scale:g}"
    )
    return checkpoints, made


def _setting(record: RunRecord) -> tuple[str, ...]:
    config = record.config
    models, prompts, data = config.models, config.prompts, config.data
    generator_checkpoints, made = _generator_setting(config)
    checkpoints = "; ".join([*generator_checkpoints, f"CLIP {models.clip_model}"])
    if models.profile in RANDOM_PROFILES:  # no checkpoint is loaded: the ids only name the architectures built
        checkpoints = f"{RANDOM_BUILT_IN_CODE}, shaped like: {checkpoints}"
    revisions = ", ".join(f"{key}={value}" for key, value in sorted(models.revisions.items())) or "latest"
    model = prompts.entry_values().get("model") if prompts.backend == "openai" else None  # the backend's setting
    asked = f"{prompts.source} via {prompts.backend}" + (f" ({model})" if model else "")
    protocol = (
        f"{data.dataset}, {data.shots}-shot trial {data.trial}, eval on {data.eval_split}; "
        f"train.protocol {config.train.protocol}"
    )
    ran_with = sorted({stage.versions.get("dalda") or "unknown" for stage in stage_records(record.root).values()})
    version = ", ".join(ran_with) if ran_with else f"{dalda_version()} (this report; the run has no record)"
    return (models.profile, checkpoints, revisions, made, asked, protocol, str(config.seed), version)


def provenance_html(records: list[RunRecord]) -> str:
    """The banner (when any run used random models) and the table of settings, as trusted HTML."""
    settings: dict[tuple[str, ...], list[str]] = {}
    for record in records:
        settings.setdefault(_setting(record), []).append(record.root.resolve().name)
    parts: list[str] = []
    random = sorted({record.config.models.profile for record in records} & set(RANDOM_PROFILES))
    if random:
        parts.append(
            f"<div class='banner' role='alert'>RANDOM MODELS (profile {', '.join(random)}): these images and "
            "accuracies come from untrained networks and say nothing about DALDA. Use models.profile=real for "
            "results.</div>"
        )
    parts.append("<h2>How the runs were made</h2><table class='provenance'><thead><tr>")
    parts += [f"<th>{name}</th>" for name in PROVENANCE_COLUMNS]
    parts.append("</tr></thead><tbody>")
    for setting, names in settings.items():
        runs = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        cells: list[Any] = [*setting, runs]
        parts.append("<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in cells) + "</tr>")
    parts.append("</tbody></table>")
    parts.append(run_record_html([record.root for record in records]))
    parts.append(timings_html(records))
    return "".join(parts)


# ------------------------------------------------------------------------------------ wall time per stage

def _lines(path: Path) -> int:
    return len(read_jsonl(path)) if path.is_file() else 0


def _prompts(run: RunDir) -> int:
    return sum(len(prompts) for prompts in read_json(run.prompts).values()) if run.prompts.is_file() else 0


STAGE_ITEMS: dict[str, tuple[str, Callable[[RunDir], int]]] = {
    "score": ("real images scored", lambda run: _lines(run.scores)),
    "prompts": ("prompts", _prompts),
    "plan": ("rows planned", lambda run: _lines(run.plan)),
    "generate": ("synthetic images", lambda run: _lines(run.manifest)),
    "filter": ("images judged", lambda run: _lines(run.filter_decisions)),
}
"""Stage -> (unit, count on disk) for the stages whose work is counted in items."""


def stage_times(records: list[RunRecord]) -> dict[str, tuple[float, int | None]]:
    """Stage -> (seconds summed over every run and attempt, items made (None: no unit)), in pipeline order."""
    seconds: dict[str, float] = {}
    for record in records:
        for entry in history(record.root):
            if entry.get("event") == "stage" and isinstance(entry.get("seconds"), (int, float)):
                seconds[entry["stage"]] = seconds.get(entry["stage"], 0.0) + float(entry["seconds"])
    totals: dict[str, tuple[float, int | None]] = {}
    for stage, spent in seconds.items():
        counted = STAGE_ITEMS.get(stage)
        items = sum(counted[1](record.run) for record in records) if counted else None
        totals[stage] = (spent, items)
    return totals


def _duration(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours}h {minutes:02d}m" if hours else (f"{minutes}m {rest:04.1f}s" if minutes else f"{rest:.1f} s")


def _runs(count: int) -> str:
    return "1 run" if count == 1 else f"{count} runs"


def timings_html(records: list[RunRecord]) -> str:
    """The stage-time table as trusted HTML; empty when no run has a history (made before it existed)."""
    totals = stage_times(records)
    if not totals:
        return ""
    rows = []
    for stage, (seconds, items) in totals.items():
        unit = STAGE_ITEMS[stage][0] if stage in STAGE_ITEMS else ""
        rate = f"{items / seconds:.2f} {unit}/s" if items and seconds > 0 else "—"
        count = f"{items} {unit}" if items is not None else "—"
        rows.append(
            f"<tr><td>{html.escape(stage)}</td>"
            + "".join(f"<td{NUM}>{html.escape(cell)}</td>" for cell in (_duration(seconds), count, rate))
            + "</tr>"
        )
    total = sum(seconds for seconds, _ in totals.values())
    return (
        "<h3>Wall time per stage</h3><table class='timings'><thead><tr><th>stage</th>"
        f"<th{NUM}>wall time</th><th{NUM}>items</th><th{NUM}>rate</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        f"<p class='note'>Summed over every attempt of {_runs(len(records))}, {_duration(total)} in all (the "
        "build of this page is not included); from each run's <code>history.jsonl</code>.</p>"
    )


# ---------------------------------------------------------------------------------------- sortable tables

SORT_SCRIPT = """<script>
(function () {
  function key(cell) { return cell.getAttribute('data-value') || ''; }
  document.querySelectorAll('table.sortable').forEach(function (table) {
    table.querySelectorAll('thead th').forEach(function (th) {
      th.addEventListener('click', function () {
        var column = th.cellIndex, body = table.tBodies[0];
        var ascending = th.getAttribute('aria-sort') !== 'ascending';
        table.querySelectorAll('thead th').forEach(function (other) { other.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = key(a.cells[column]), y = key(b.cells[column]);
          if (x === '' || y === '') { return (x === '') - (y === ''); }
          var nx = Number(x), ny = Number(y);
          var order = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });
})();
</script>"""

SORT_STYLE = """<style>
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th[aria-sort=ascending]::after { content: " ▲"; }
table.sortable th[aria-sort=descending]::after { content: " ▼"; }
tr.reference td { font-style: italic; color: #555; background: #fafafa; }
details.accuracy-detail { margin: 0.6em 0; }
details.accuracy-detail > summary { cursor: pointer; font-weight: 600; }
</style>"""

Value = str | int | float | None


def _text(value: Value, digits: int, signed: bool) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"
    return str(value)


def sortable_table(
    headers: Sequence[str], rows: Sequence[Sequence[Value]], digits: int = 4, signed: Sequence[int] = ()
) -> str:
    """A sortable ``<table>``; floats rounded to ``digits`` on screen (columns in ``signed`` with a sign)."""
    numeric = [any(is_number(row[i]) for row in rows) and all(row[i] is None or is_number(row[i]) for row in rows)
               for i in range(len(headers))]
    head = "".join(
        f"<th title='click to sort'{NUM if numeric[i] else ''}>{html.escape(name)}</th>" for i, name in enumerate(headers)
    )
    body = []
    for row in rows:
        cells = []
        for index, value in enumerate(row):
            raw = "" if value is None else repr(value) if isinstance(value, float) else str(value)
            shown = _text(value, digits, index in signed)
            align = NUM if numeric[index] else ""
            cells.append(f"<td data-value='{html.escape(raw, quote=True)}'{align}>{html.escape(shown)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table class='sortable'><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


# ----------------------------------------------------------------------------------- the accuracy section

MAX_CHARTED = 24
ACCURACY_SECTION = "Per-class accuracy, confusions and training curves"


@dataclass
class AccuracySections:
    html: str
    figures: list[ReportFigure] = field(default_factory=list)
    tables: list[dict[str, str]] = field(default_factory=list)
    """{"CSV": path} of each table file written, relative to the report folder."""


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "run"


def accuracy_sections(records: list[RunRecord], folder: Path, base: Path) -> AccuracySections:
    """Write the section's CSV and PNG files under ``folder`` (the report being built) and return its HTML;
    ``base`` is the folder run paths are shown relative to."""
    ordered = sorted(records, key=lambda r: (r.dataset, r.shots, r.trial, r.label.sort_key, str(r.root)))
    out = AccuracySections("")
    blocks: list[str] = []
    for record in ordered:
        details = load_run_accuracy(record)
        for classifier in classifiers_of([record]):
            if classifier in details.results:
                charted = len(blocks) < MAX_CHARTED
                blocks.append(_block(details, classifier, run_label(record, base), folder, out, charted))
    if not blocks:
        return out
    opened = " open" if len(blocks) <= 2 else ""
    notes = [
        "Per run and classifier, from its results files. Click a column header to sort.",
    ]
    if len(blocks) > MAX_CHARTED:
        notes.append(f"Charts are drawn for the first {MAX_CHARTED} of {len(blocks)} blocks; every block's CSV is "
                     "written.")  # fmt: skip
    parts = [SORT_STYLE, f"<h2>{html.escape(ACCURACY_SECTION)}</h2>"]
    parts += [f"<p class='note'>{html.escape(note)}</p>" for note in notes]
    parts += [block.replace("<details class='accuracy-detail'>", f"<details class='accuracy-detail'{opened}>", 1)
              for block in blocks]  # fmt: skip
    parts.append(SORT_SCRIPT)
    out.html = "\n".join(parts)
    return out


def _figure(out: AccuracySections, folder: Path, path: Path | None, caption: str) -> str:
    if path is None:
        return ""
    entry = ReportFigure(str(path.relative_to(folder)), caption, ACCURACY_SECTION)
    out.figures.append(entry)
    return embedded_image(folder, entry)


def _csv(out: AccuracySections, folder: Path, name: str, text: str) -> str:
    write_text_atomic(folder / "tables" / name, text)
    out.tables.append({"CSV": f"tables/{name}"})
    return f"<p class='note'><a href=\"tables/{html.escape(name)}\">CSV</a></p>"


def _block(
    details: RunAccuracy, classifier: str, label: str, folder: Path, out: AccuracySections, charted: bool
) -> str:
    record = details.record
    result = details.results[classifier]
    slug = _slug(f"{label}_{classifier}")
    title = (f"{label} — {classifier_title(classifier)} ({record.method}, {record.dataset}, {record.shots}-shot, "
             f"trial {record.trial})")  # fmt: skip
    figures = folder / "figures"
    parts = [f"<details class='accuracy-detail'><summary>{html.escape(title)}</summary>"]

    if result.gain_over_real_only:
        parts.append(f"<p class='note'>{html.escape(gain_sentence(result.gain_over_real_only))}</p>")
    rows = per_class_rows(details, classifier)
    parts.append("<h4>Per-class accuracy</h4>")
    if rows:
        if details.is_real_only:
            parts.append("<p class='note'>This run used no synthetic image: it is its own real-only reference.</p>")
        elif classifier not in details.real_only:
            parts.append("<p class='note'>No real-only reference is stored for this run (made before "
                         "train.real_only_reference, or with it off): re-run `dalda train` and `dalda evaluate`."
                         "</p>")  # fmt: skip
        parts.append(sortable_table(PER_CLASS_HEADERS, [row.cells() for row in rows], signed=(5,)))
        parts.append(_csv(out, folder, f"per_class_{slug}.csv", per_class_csv(rows)))
        if charted:
            path = gain_chart(rows, label, classifier, figures / f"per_class_gain_{slug}.png")
            parts.append(_figure(out, folder, path, f"Per-class gain of {title} over real images only."))
    else:
        parts.append("<p class='note'>The results file stores no per-class accuracy.</p>")

    parts.append("<h4>Top confusions</h4>")
    classes = list(result.classes or [])
    if result.confusion and classes:
        everything = top_confusions(result.confusion, classes, limit=None)
        shown = everything[: 15]
        if shown:
            parts.append(sortable_table(
                ("True class", "Predicted class", "Count", "Share of true class"),
                [(c.true, c.predicted, c.count, c.share) for c in shown],
            ))  # fmt: skip
            parts.append(f"<p class='note'>{len(shown)} of {len(everything)} confusions; share = count / the true "
                         "class's evaluation images.</p>")  # fmt: skip
        else:
            parts.append("<p class='note'>No confusion: every evaluation image was classified right.</p>")
        parts.append(_csv(out, folder, f"confusions_{slug}.csv", confusions_csv(everything)))
        if charted:
            path = heatmap(result.confusion, classes, label, classifier, figures / f"confusion_{slug}.png")
            parts.append(_figure(out, folder, path, f"Confusion matrix of {title} (rows: true class, normalised)."))
    else:
        parts.append("<p class='note'>No confusion counts stored (a run evaluated before dalda stored them): "
                     "re-run `dalda evaluate`.</p>")  # fmt: skip

    if charted:
        path = curves_chart(result, details.real_only.get(classifier), title, classifier,
                            figures / f"curves_{slug}.png")  # fmt: skip
        if path is not None:
            parts.append("<h4>Training curves</h4>")
            parts.append(_figure(out, folder, path, f"Loss and accuracy per epoch of {title}; dashed: real only."))
    parts.append("</details>")
    return "".join(parts)
