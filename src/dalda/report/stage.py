"""The report stage (`dalda report`): tables, figures and one HTML page from one run or a whole experiment.

Output, under ``<root>/report/``::

    index.html            the page (figures embedded; gallery thumbnails beside it under thumbs/)
    tables/<key>.md|.csv  Tab. 1, 2, 3 (+ t-tests) per shot count, the per-run index, and the prompts the
                          validator flagged (when any)
    figures/<name>.png    Fig. 4 histograms, λ distribution, λ vs score, Fig. 5 grids, Fig. 6/7 (several
                          shots), Fig. 8 (fixed-λ runs), Fig. 9 (several prompt counts)
    thumbs/<hash>.jpg     gallery thumbnails (``dalda.report.gallery``), referenced by relative path
    tables/per_class_*.csv, tables/confusions_*.csv, figures/{per_class_gain,confusion,curves}_*.png
                          per run and classifier (``page.py``, the accuracy section)
    manifest.json         what was written, for tools and tests (``dalda.artefacts.ReportManifest``)

Each report is built in a fresh folder and swapped in (``dalda.report.install``), so it never holds files from an
earlier report, and a file a user put inside ``report/`` is never replaced or deleted.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

from dalda.artefacts import REPORT_MANIFEST, ReportFigure, ReportManifest
from dalda.config import DaldaConfig
from dalda.guidance import SamplingContext, group_threshold
from dalda.io import read_json, write_text_atomic
from dalda.report.beyond import beyond_figures, beyond_tables
from dalda.report.collect import (
    HC_THRESHOLD,
    SUMMARY_FILE,
    DatasetGroup,
    RunRecord,
    dataset_groups,
    dataset_order,
    dataset_title,
    find_run_dirs,
    load_runs,
    real_image_scores,
)
from dalda.report.figures import (
    accuracy_vs_fixed_lambda,
    accuracy_vs_shots,
    clipscore_histograms,
    diversity_vs_shots,
    image_grids,
    lambda_distribution,
    lambda_vs_score,
    metrics_vs_num_prompts,
)
from dalda.report.gallery import flagged_prompts_table, gallery_html, prompt_tables_html
from dalda.report.install import fresh_folder, install
from dalda.report.page import accuracy_sections, overview_html, render_page
from dalda.report.tables import Table, accuracy_table, diversity_table, group_table, runs_table, ttest_table
from dalda.rundir import RunDir
from dalda.scorers import SCORERS

log = logging.getLogger(__name__)


def run_report_stage(config: DaldaConfig, run: RunDir) -> Path:
    """The report of one run directory (the last stage of `dalda run`); returns the HTML page's path."""
    return write_report([run.root], run.report, title=f"dalda run report: {run.root.resolve().name}")


def build_report(root: Path, threshold: float = HC_THRESHOLD) -> Path:
    """The report of a run directory or of every run below an experiment directory, in ``root/report/``."""
    root = Path(root)
    runs = find_run_dirs(root)
    if not runs:
        raise FileNotFoundError(
            f"no run directory (a folder with config.yaml) under {root}; run `dalda run` or `dalda experiment` first"
        )
    summary = read_json(root / SUMMARY_FILE) if (root / SUMMARY_FILE).is_file() else None
    name = Path(root).resolve().name
    title = f"dalda report: {summary.get('name', name) if summary else name}"
    return write_report(runs, root / "report", title=title, threshold=threshold, summary=summary)


def _tables(
    records: list[RunRecord], datasets: list[str], groups: dict[str, DatasetGroup], threshold: float, base: Path
) -> list[Table]:
    tables: list[Table | None] = []
    for shots in sorted({record.shots for record in records}):
        tables += [
            diversity_table(records, shots, datasets, groups, f"tab1_diversity_{shots}shot"),
            accuracy_table(records, shots, datasets, groups, f"tab2_accuracy_{shots}shot"),
            group_table(records, shots, groups, threshold, f"tab3_groups_{shots}shot"),
            ttest_table(records, shots, groups, f"tab3_ttests_{shots}shot"),
        ]
    tables.append(runs_table(records, base, "runs"))
    tables.append(flagged_prompts_table(records, base, "flagged_prompts"))
    return [table for table in tables if table is not None]


def _figures(
    records: list[RunRecord], scores: dict[str, dict[str, float]], groups: dict[str, DatasetGroup], folder: Path
) -> list[tuple[Path, str, str]]:
    """(path, caption, section) of every figure that applies to these records."""
    found: list[tuple[Path | None, str, str]] = []
    alphas = {
        r.dataset: group_threshold(
            r.config.guidance,
            SamplingContext(r.shots, list(scores.get(r.dataset, {}).values()), SCORERS.get(r.score_variant).default_alpha),
        )
        for r in records
    }
    found.append((
        clipscore_histograms(scores, groups, alphas, folder / "fig4_clipscore_hist.png"),
        "Fig. 4 — CLIPScore of the real training images per dataset (α: the AGS Low/High threshold).",
        "CLIPScore and λ",
    ))  # fmt: skip
    found.append((
        lambda_distribution(records, folder / "lambda_distribution.png"),
        "IP-Adapter weight λ of every planned synthetic image, per method (AGS vs RS), side by side per bin.",
        "CLIPScore and λ",
    ))  # fmt: skip
    found.append((
        lambda_vs_score(records, folder / "lambda_vs_score.png"),
        "λ of every planned image against its real image's alignment score, coloured by AGS group, with the "
        "range and mean μ λ was drawn from (AGS), the RS range or the fixed λ.",
        "CLIPScore and λ",
    ))  # fmt: skip
    used = sorted({protocol for record in records for protocol in record.protocol.values()})
    measured = f" Each run's final-epoch accuracy (train.protocol: {', '.join(used) or 'none'})."
    found.append((
        diversity_vs_shots(records, folder / "fig6_diversity_vs_shots.png"),
        "Fig. 6 — diversity against shots per class (mean ± std over trials).",
        "Shots",
    ))  # fmt: skip
    found.append((
        accuracy_vs_shots(records, folder / "fig7_accuracy_vs_shots.png"),
        "Fig. 7 — accuracy against shots per class (mean ± std over trials)." + measured,
        "Shots",
    ))  # fmt: skip
    for shots in sorted({record.shots for record in records}):
        found.append((
            accuracy_vs_fixed_lambda(records, shots, folder / f"fig8_fixed_lambda_{shots}shot.png"),
            f"Fig. 8 — {shots}-shot accuracy at a fixed λ, Base vs LLM (or template) Prompt; dashed: each curve's "
            "mean, solid red: the AGS run (DALDA when an LLM wrote its prompts; the legend names it)." + measured,
            "Fixed λ and prompt count",
        ))  # fmt: skip
        found.append((
            metrics_vs_num_prompts(records, shots, folder / f"fig9_num_prompts_{shots}shot.png"),
            f"Fig. 9 — {shots}-shot accuracy and diversity against the number of LLM prompts per class." + measured,
            "Fixed λ and prompt count",
        ))  # fmt: skip
    for grid in image_grids(records, scores, folder):
        found.append((
            grid.path,
            f"Fig. 5 — {dataset_title(grid.dataset)}: the real image with the {grid.kind} CLIPScore "
            f"({grid.score:.3f}, {Path(grid.real_path).name}) and synthetic images per method "
            "(λ or strength, prompt).",
            "Synthetic images",
        ))  # fmt: skip
    return [(path, caption, section) for path, caption, section in found if path is not None]


def write_report(
    run_dirs: list[Path], dest: Path, title: str, threshold: float = HC_THRESHOLD, summary: dict[str, Any] | None = None
) -> Path:
    """Tables, figures, manifest and ``index.html`` for ``run_dirs``, built in a fresh folder and then put in
    place as ``dest`` (``dalda.report.install``: a user's file inside ``dest`` is never replaced or deleted);
    returns the HTML path."""
    dest = Path(dest)
    work = fresh_folder(dest)
    try:
        _write_report_files(run_dirs, work, title, threshold, summary, previous=dest)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    install(work, dest)
    index = dest / "index.html"
    log.info("report -> %s", index)
    return index


def _write_report_files(
    run_dirs: list[Path], dest: Path, title: str, threshold: float, summary: dict[str, Any] | None,
    previous: Path | None = None,
) -> None:
    """Every report file for ``run_dirs`` into the new, empty folder ``dest`` (``previous``: the report it will
    replace, whose gallery thumbnails are reused where their image is unchanged)."""
    records = load_runs(run_dirs)
    scores = real_image_scores(records)
    datasets = dataset_order([record.dataset for record in records])
    groups = dataset_groups(scores, datasets, threshold)
    for folder in (dest / "tables", dest / "figures"):
        folder.mkdir(parents=True)

    tables = _tables(records, datasets, groups, threshold, dest.parent)
    tables += beyond_tables(records, dest.parent)  # runs that differ in scorer, generator or filter
    table_files: list[tuple[Table, dict[str, str]]] = []
    for table in tables:
        write_text_atomic(dest / "tables" / f"{table.key}.md", table.markdown())
        write_text_atomic(dest / "tables" / f"{table.key}.csv", table.csv())
        table_files.append((table, {"Markdown": f"tables/{table.key}.md", "CSV": f"tables/{table.key}.csv"}))

    figures = [
        ReportFigure(str(path.relative_to(dest)), caption, section)
        for path, caption, section in [
            *_figures(records, scores, groups, dest / "figures"),
            *beyond_figures(records, dest.parent, dest / "figures"),
        ]
    ]
    sections = [(heading, body) for heading, body in (
        ("Prompts per class", prompt_tables_html(records)),
        ("Gallery", gallery_html(records, dest, previous=previous)),
    ) if body]  # fmt: skip
    details = accuracy_sections(records, dest, dest.parent)
    overview = overview_html(records, groups, threshold, summary)
    page = render_page(dest, title, overview, table_files, figures, [details.html], sections)
    index = dest / "index.html"
    write_text_atomic(index, page)
    ReportManifest(
        title=title,
        runs=[str(record.root) for record in records],
        hc_threshold=threshold,
        groups={name: asdict(group) for name, group in groups.items()},
        tables=[files for _, files in table_files] + details.tables,
        figures=figures + details.figures,
        files=sorted([*(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file()), REPORT_MANIFEST]),
    ).write(dest)
    log.info("report: %d tables, %d figures", len(tables), len(figures))
