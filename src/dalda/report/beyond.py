"""The report's "Beyond the paper" section: runs that differ in alignment scorer, generator, filter or budget.

Shown only when the report's runs differ in at least one of the four (``configs/experiments/beyond.yaml``,
``configs/experiments/budget.yaml``). Each run is placed by its own config: the scorer that set its λ
(``score.variant``), the generator (``generator.name``), the filter (``filter.enabled`` with its scorer and
threshold) and the synthetic budget (``plan.budget`` with its settings). Everything is read from files the runs
wrote:

- accuracy and diversity tables (DINO, FID and KID columns when a run has them), one row per
  scorer x generator x filter x budget, mean (± std) over trials, per dataset;
- the real training images' alignment scores, one histogram per scorer (each with its α), from ``scores.jsonl``;
- the planned λ, one histogram per scorer, from ``plan.jsonl`` (each row names the scorer that set it);
- kept / rejected counts per filtered run with the rejection reasons, from ``synthetic/filter.jsonl``, and
  example thumbnails of kept and rejected images with their score.
"""

from __future__ import annotations

import os
import textwrap
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

from dalda.artefacts import FilterRecord, PlanRow
from dalda.images import load_rgb
from dalda.metrics import column_title, diversity_metrics, fidelity_metrics
from dalda.report.collect import (
    RecordValue,
    RunRecord,
    accuracy_of,
    classifier_title,
    classifiers_of,
    dataset_order,
    dataset_title,
    diversity_columns,
    real_image_scores_by_scorer,
    scorer_name,
)
from dalda.report.figures import legend_beside, plt, save_figure
from dalda.report.tables import Cell, Column, Table, summarize
from dalda.guidance import GUIDANCE, SamplingContext, bind
from dalda.scorers import SCORERS

SECTION = "Beyond the paper: scorer, generator, filter"
EXAMPLES = 4
"""Kept and rejected thumbnails shown per filtered run (each)."""
MAX_EXAMPLE_RUNS = 8

Axes = tuple[str, str, str, str]
"""(scorer, generator, filter, budget) of a run."""
AXIS_COLUMNS = ("Scorer", "Generator", "Filter", "Budget")


def filter_label(record: RunRecord) -> str:
    cfg = record.config.filter
    if not cfg.enabled:
        return "off"
    near = "" if cfg.max_source_similarity is None else f", copy > {cfg.max_source_similarity:g}"
    return f"on ({cfg.scorer} < {cfg.min_score:g}{near})"


def budget_label(record: RunRecord) -> str:
    """``plan.budget`` with its settings (``adaptive (floor 0.25)``); the paper's ``uniform`` alone."""
    settings = ", ".join(f"{key} {value:g}" for key, value in sorted(record.config.plan.entry_values().items()))
    return f"{record.config.plan.budget} ({settings})" if settings else record.config.plan.budget


def run_axes(record: RunRecord) -> Axes:
    return scorer_name(record), record.config.generator.name, filter_label(record), budget_label(record)


def _synthetic(records: Sequence[RunRecord]) -> list[RunRecord]:
    return [record for record in records if record.base_method != "none"]


def applies(records: Sequence[RunRecord]) -> bool:
    """Whether the runs (those with synthetic images) differ in scorer, generator, filter or budget."""
    return len({run_axes(record) for record in _synthetic(records)}) > 1


def _per_axes_table(
    key: str,
    title: str,
    records: Sequence[RunRecord],
    metrics: Sequence[tuple[str, Callable[[RunRecord], float | None], str]],
    notes: list[str],
) -> Table | None:
    datasets = dataset_order([record.dataset for record in records])
    columns = [Column(name) for name in AXIS_COLUMNS]
    columns += [
        Column(f"{dataset_title(dataset)} {name}", better)  # type: ignore[arg-type]
        for dataset in datasets
        for name, _, better in metrics
    ]
    rows: list[list[Cell]] = []
    for axes in sorted({run_axes(record) for record in records}):
        row: list[Cell] = list(axes)
        for dataset in datasets:
            mine = [r for r in records if r.dataset == dataset and run_axes(r) == axes]
            for _, metric, _ in metrics:
                values = [value for value in map(metric, mine) if value is not None]
                row.append(summarize(values))
        if any(cell is not None for cell in row[len(axes) :]):
            rows.append(row)
    return Table(key, title, columns, rows, notes) if rows else None


def kept_columns(records: Sequence[RunRecord]) -> list[tuple[str, RecordValue, Literal["lower", "higher"]]]:
    """Each diversity and fidelity column again over the filter's kept images only, with the kept count; none when
    no run was filtered."""
    if not any(record.kept_diversity for record in records):
        return []

    def kept(name: str) -> RecordValue:
        return lambda record: record.kept_diversity.get(name)

    columns: list[tuple[str, RecordValue, Literal["lower", "higher"]]] = [("kept images", kept("num_images"), "higher")]
    for name, metric in [*diversity_metrics(), *fidelity_metrics()]:
        if any(record.kept_diversity.get(name) is not None for record in records):
            better: Literal["lower", "higher"] = "higher" if metric.higher_is_more_diverse else "lower"
            columns.append((f"{column_title(metric)} kept", kept(name), better))
    return columns


def beyond_tables(records: Sequence[RunRecord], base: Path) -> list[Table]:
    """Accuracy and diversity per scorer x generator x filter (per shot count), and the filter counts."""
    if not applies(records):
        return []
    chosen = _synthetic(records)
    tables: list[Table | None] = []
    for shots in sorted({record.shots for record in chosen}):
        mine = [record for record in chosen if record.shots == shots]
        accuracy = [(classifier_title(c), accuracy_of(c), "higher") for c in classifiers_of(mine)]
        tables.append(
            _per_axes_table(
                f"beyond_accuracy_{shots}shot",
                f"Beyond the paper — accuracy per scorer × generator × filter, {shots}-shot",
                mine,
                accuracy,
                ["Mean (± sample std) over trials of results/<classifier>.json accuracy. Scorer: the alignment "
                 "scorer that set λ (score.variant); filter: filter.scorer < filter.min_score is rejected."],
            )
        )  # fmt: skip
        tables.append(
            _per_axes_table(
                f"beyond_diversity_{shots}shot",
                f"Beyond the paper — diversity and fidelity per scorer × generator × filter, {shots}-shot",
                mine,
                [*diversity_columns(mine), *kept_columns(mine)],
                ["Mean (± sample std) over trials of diversity.json. DINO / CLIP-I: lower = more diverse; "
                 "FID / KID: lower = closer to the real evaluation images (diversity.json 'fidelity' names the "
                 "features; FID is biased upward for small sets, compare equal set sizes only). Columns without "
                 "'kept' are over every synthetic image, kept or rejected; 'kept' columns (filtered runs) are over "
                 "the images the filter kept, which training used (diversity.json 'kept')."],
            )
        )  # fmt: skip
    tables.append(filter_table(chosen, base))
    return [table for table in tables if table is not None]


def _decisions(record: RunRecord) -> list[FilterRecord]:
    if not record.config.filter.enabled or not record.run.filter_decisions.is_file():
        return []
    return FilterRecord.read_all(record.run)


def filter_table(records: Sequence[RunRecord], base: Path) -> Table | None:
    """Kept / rejected counts and rejection reasons of every run that ran the filter stage."""
    rows: list[list[Cell]] = []
    reasons = ("low_score", "other_class", "near_copy")
    for record in sorted(records, key=lambda r: (r.dataset, r.shots, r.trial, run_axes(r))):
        decisions = _decisions(record)
        if not decisions:
            continue
        counts = Counter(reason for decision in decisions for reason in decision.reasons)
        kept = sum(decision.kept for decision in decisions)
        scorer, generator, filtered, _ = run_axes(record)
        rows.append(
            [os.path.relpath(record.root, base), record.dataset, record.trial, scorer, generator, filtered,
             len(decisions), kept, len(decisions) - kept, *(counts.get(reason, 0) for reason in reasons)]
        )  # fmt: skip
    if not rows:
        return None
    names = ["Run", "Dataset", "Trial", "Scorer", "Generator", "Filter", "Images", "Kept", "Rejected"]
    columns = [Column(name) for name in names] + [Column(f"rejected: {reason}") for reason in reasons]
    notes = [
        "From each run's synthetic/filter.jsonl; an image can be rejected for several reasons. Training used the "
        "kept images only; nothing was deleted."
    ]
    return Table("beyond_filter", "Beyond the paper — filter: kept and rejected synthetic images", columns, rows, notes)


# ------------------------------------------------------------------------------------------------ figures


def _alpha(records: Sequence[RunRecord], scorer: str, dataset: str, values: list[float]) -> float | None:
    """The α a run of this scorer and dataset used (``guidance.alpha_quantile`` resolved on the values)."""
    for record in records:
        if scorer_name(record) == scorer and record.dataset == dataset:
            context = SamplingContext(record.shots, values, SCORERS.get(scorer).default_alpha)
            return bind(record.config.guidance, context).threshold
    return None


def _title(scorer: str) -> str:
    return SCORERS.get(scorer).title if scorer in SCORERS else scorer


def score_histograms(records: Sequence[RunRecord], path: Path) -> Path | None:
    """The real training images' alignment scores: a row of histograms (one per dataset) for each scorer."""
    by_scorer = real_image_scores_by_scorer(list(records))
    scorers = sorted(name for name, datasets in by_scorer.items() if any(datasets.values()))
    if len(scorers) < 2:
        return None
    datasets = dataset_order([d for name in scorers for d in by_scorer[name]])
    figure, axes = plt.subplots(len(scorers), len(datasets), figsize=(4.2 * len(datasets), 3.0 * len(scorers)),
                                squeeze=False)  # fmt: skip
    for row, scorer in zip(axes, scorers):
        for ax, dataset in zip(row, datasets):
            values = list(by_scorer[scorer].get(dataset, {}).values())
            ax.set_title(f"{_title(scorer)}: {dataset_title(dataset)}", fontsize=9)
            ax.set_xlabel("alignment score")
            ax.set_ylabel("real images")
            if not values:
                continue
            ax.hist(values, bins=20, range=(0.0, 1.0), color="#4C72B0", edgecolor="white")
            alpha = _alpha(records, scorer, dataset, values)
            if alpha is not None:
                ax.axvline(alpha, color="#C44E52", linestyle="--", label=f"α = {alpha:.3g}")
            ax.axvline(sum(values) / len(values), color="#55A868", label=f"mean = {sum(values) / len(values):.3f}")
            legend_beside(ax)
    return save_figure(figure, path)


def lambda_histograms(records: Sequence[RunRecord], path: Path) -> Path | None:
    """The planned λ of AGS runs, one histogram per scorer (the scorer each plan row names), one line per
    dataset."""
    by_scorer: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for record in records:
        if not GUIDANCE.get(record.config.guidance.strategy).needs_scores or not record.run.plan.is_file():
            continue
        for row in PlanRow.read_all(record.run):
            if isinstance(row.ip_scale, (int, float)):
                scorer = row.scorer or scorer_name(record)
                scorer = SCORERS.get(scorer).name if scorer in SCORERS else scorer
                by_scorer[scorer][record.dataset].append(float(row.ip_scale))
    if len(by_scorer) < 2:
        return None
    scorers = sorted(by_scorer)
    figure, axes = plt.subplots(1, len(scorers), figsize=(4.2 * len(scorers), 3.2), squeeze=False)
    for ax, scorer in zip(axes[0], scorers):
        for dataset in dataset_order(list(by_scorer[scorer])):
            values = by_scorer[scorer][dataset]
            ax.hist(values, bins=20, range=(0.0, 1.0), histtype="step", linewidth=1.5,
                    label=f"{dataset_title(dataset)} ({len(values)})")  # fmt: skip
        ax.set_title(f"λ set by {_title(scorer)}", fontsize=9)
        ax.set_xlabel("IP-Adapter weight λ")
        ax.set_ylabel("synthetic images")
        legend_beside(ax)
    return save_figure(figure, path)


def _thumbnail(ax, image_path: Path, caption: str, colour: str) -> None:
    ax.imshow(load_rgb(image_path))
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_edgecolor(colour)
        spine.set_linewidth(3)
    ax.set_title(caption, fontsize=7)


def filter_examples(records: Sequence[RunRecord], base: Path, path: Path) -> Path | None:
    """One row per filtered run: up to :data:`EXAMPLES` kept images (green), then up to as many rejected ones
    (red), each with its score and reasons."""
    runs = [(record, decisions) for record in records if (decisions := _decisions(record))][:MAX_EXAMPLE_RUNS]
    if not runs:
        return None
    figure, axes = plt.subplots(len(runs), 2 * EXAMPLES, figsize=(1.6 * 2 * EXAMPLES, 2.1 * len(runs)),
                                squeeze=False)  # fmt: skip
    for row, (record, decisions) in zip(axes, runs):
        kept = [d for d in decisions if d.kept][:EXAMPLES]
        rejected = [d for d in decisions if not d.kept][:EXAMPLES]
        for ax in row:
            ax.axis("off")
        for ax, decision in zip(row[:EXAMPLES], kept):
            ax.axis("on")
            _thumbnail(ax, record.run.synthetic / decision.file_name, f"kept\n{decision.score:.2f}", "#55A868")
        for ax, decision in zip(row[EXAMPLES:], rejected):
            ax.axis("on")
            reasons = ", ".join(decision.reasons)
            _thumbnail(ax, record.run.synthetic / decision.file_name, f"{reasons}\n{decision.score:.2f}", "#C44E52")
        label = "\n".join(textwrap.wrap(os.path.relpath(record.root, base), 24))
        row[0].set_ylabel(label, fontsize=7)
        if not kept:
            row[0].text(0.5, 0.5, "none kept", ha="center", va="center", fontsize=8, transform=row[0].transAxes)
        if not rejected:
            row[EXAMPLES].text(0.5, 0.5, "none rejected", ha="center", va="center", fontsize=8,
                               transform=row[EXAMPLES].transAxes)  # fmt: skip
    return save_figure(figure, path)


def beyond_figures(records: Sequence[RunRecord], base: Path, folder: Path) -> list[tuple[Path, str, str]]:
    """(path, caption, section) of each figure of the section that applies to these records."""
    if not applies(records):
        return []
    found = [
        (score_histograms(records, folder / "beyond_scores_per_scorer.png"),
         "Alignment score of the real training images, one row of histograms per scorer (α: its Low/High "
         "threshold in these runs)."),
        (lambda_histograms(records, folder / "beyond_lambda_per_scorer.png"),
         "IP-Adapter weight λ of every planned synthetic image, one histogram per alignment scorer that set it."),
        (filter_examples(records, base, folder / "beyond_filter_examples.png"),
         "Filter: kept (green) and rejected (red) synthetic images of each filtered run, with the filter "
         "scorer's value and the rejection reasons."),
    ]  # fmt: skip
    return [(path, caption, SECTION) for path, caption in found if path is not None]
