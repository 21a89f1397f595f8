"""The report's accuracy section, per run and classifier: per-class accuracy, top confusions, training curves.

For each run (and each classifier it evaluated) the page gets a collapsible block (open for a single run) with

- a sortable table of per-class accuracy: real images only (reference), zero-shot CLIP (reference), the run,
  and the gain over real only (``per_class.py``), also written to ``tables/per_class_<run>_<classifier>.csv``;
- a bar chart of the per-class gain over real only;
- the top confusions (true -> predicted, count, share), every confusion in
  ``tables/confusions_<run>_<classifier>.csv``, and a heat-map for up to 30 classes (``confusions.py``);
- loss and accuracy per epoch (``curves.py``).

Charts are drawn for the first ``MAX_CHARTED`` run/classifier blocks (in table order) so an experiment's page
stays a reasonable size; the CSV files are written for every block.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

from dalda.io import write_text_atomic
from dalda.methods import method_sort_key
from dalda.report.collect import RunRecord
from dalda.report.columns import classifier_title, classifiers_of
from dalda.report.confusions import confusions_csv, heatmap, top_confusions
from dalda.report.curves import curves_chart
from dalda.report.html import FigureEntry, embedded_image
from dalda.report.per_class import gain_chart, per_class_csv, per_class_rows, HEADERS
from dalda.report.references import RunAccuracy, load_run_accuracy, run_label
from dalda.report.sortable import SORT_SCRIPT, STYLE, sortable_table

MAX_CHARTED = 24
SECTION = "Per-class accuracy, confusions and training curves"


@dataclass
class AccuracySections:
    html: str
    figures: list[FigureEntry] = field(default_factory=list)
    tables: list[dict[str, str]] = field(default_factory=list)
    """{"CSV": path} of each table file written, relative to the report folder."""


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "run"


def accuracy_sections(records: list[RunRecord], folder: Path, base: Path) -> AccuracySections:
    """Write the section's CSV and PNG files under ``folder`` (the report being built) and return its HTML;
    ``base`` is the folder run paths are shown relative to."""
    ordered = sorted(records, key=lambda r: (r.dataset, r.shots, r.trial, method_sort_key(r.method), str(r.root)))
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
    parts = [STYLE, f"<h2>{html.escape(SECTION)}</h2>"]
    parts += [f"<p class='note'>{html.escape(note)}</p>" for note in notes]
    parts += [block.replace("<details class='accuracy-detail'>", f"<details class='accuracy-detail'{opened}>", 1)
              for block in blocks]  # fmt: skip
    parts.append(SORT_SCRIPT)
    out.html = "\n".join(parts)
    return out


def _figure(out: AccuracySections, folder: Path, path: Path | None, caption: str) -> str:
    if path is None:
        return ""
    entry = FigureEntry(str(path.relative_to(folder)), caption, SECTION)
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

    rows = per_class_rows(details, classifier)
    parts.append("<h4>Per-class accuracy</h4>")
    if rows:
        if details.is_real_only:
            parts.append("<p class='note'>This run used no synthetic image: it is its own real-only reference.</p>")
        elif classifier not in details.real_only:
            parts.append("<p class='note'>No real-only reference is stored for this run (made before "
                         "train.real_only_reference, or with it off): re-run `dalda train` and `dalda evaluate`."
                         "</p>")  # fmt: skip
        parts.append(sortable_table(HEADERS, [row.cells() for row in rows], signed=(5,)))
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
