"""Every matplotlib figure of the report but the "beyond the paper" ones (``beyond.py``), as PNG files.

Each function draws one figure when the records hold what it needs (e.g. more than one shot count for the
accuracy-vs-shots curves) and returns its path, or returns None and writes nothing. All of them draw on the
Agg backend and save through :func:`save_figure` (atomic PNG). Points are means over trials; error bars are the
sample std when there is more than one trial.

- **The paper's figures**: Fig. 4 (CLIPScore histograms), Fig. 6 / 7 (diversity and accuracy against shots),
  Fig. 8 (accuracy at a fixed λ), Fig. 9 (against the number of LLM prompts) and the λ distribution.
- **λ against alignment score**: each planned image's IP-Adapter weight over its real image's score (AGS at a
  glance). One panel per dataset and method (the first (shots, trial) cell, ``collect.showcase_cells``). Points
  are the rows of ``plan.jsonl``: x is the source image's value in ``scores.jsonl`` under the run's
  ``score.variant`` (the row's own ``clipscore`` when the image is missing there), y its λ, the colour its
  Low/High group as the plan recorded it. Behind the points, the band λ was drawn from and where the draws
  centre (AGS: the range and μ per group; RS: the uniform range; a fixed λ: its line), from the run's own λ
  sampler bound as the plan stage binds it (``dalda.guidance``: α resolved on the same scores), and the threshold
  α when the sampler has one.
- **Fig. 5**: a real image beside the synthetic images each method made from it. For each dataset the real
  images with the highest and the lowest CLIPScore are shown (where AGS behaves most differently: more text
  guidance for the first, more image guidance for the second). One figure per real image: the real image on
  the left, then one row per method holding the first few synthetic images made from it, each labelled with
  its λ (or img2img strength) and its prompt, shortened.
- **Per-class gain** over real images only (rows of ``tables.per_class_rows``): classes sorted by gain and,
  beyond ``MAX_BARS`` classes, the ``MAX_BARS // 2`` largest and smallest gains, so a 100-class dataset stays
  readable.
- **Confusion heat-map** (rows normalised to shares), drawn only up to ``MAX_HEATMAP_CLASSES`` classes, with the
  counts written in the cells up to ``MAX_ANNOTATED`` classes.
- **Training curves** of one classifier: loss and accuracy per epoch, where the results file stores them. From
  ``results/<classifier>.json``: ``training.epoch_losses`` (mean cross-entropy per epoch, both protocols),
  ``training.epoch_train_accuracies`` (share of the epoch's training draws classified right; runs made before
  it existed lack it) and the evaluation accuracy per epoch: ``epochs`` under ``train.protocol=authors``
  (evaluation draws), ``training.epoch_eval_accuracies`` under ``fast`` with cached features (every evaluation
  image), else the final epoch alone. The real-only reference's curves, when stored, are drawn dashed beside
  the run's.
"""

from __future__ import annotations

import os
import textwrap
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen before pyplot loads)
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.gridspec import GridSpec  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from dalda.artefacts import ClassifierResult, PlanRow  # noqa: E402
from dalda.images import load_rgb  # noqa: E402
from dalda.io import atomic_open  # noqa: E402
from dalda.methods import MethodLabel, prompt_title, reference_for  # noqa: E402
from dalda.report.collect import (  # noqa: E402
    DatasetGroup,
    RunRecord,
    accuracy_of,
    cell_title,
    classifier_title,
    classifiers_in_figure_order,
    classifiers_of,
    dataset_order,
    dataset_title,
    diversity_columns,
    plan_lambdas,
    run_scores,
    showcase_cells,
    synthetic_rows,
)
from dalda.report.tables import ClassRow, summarize  # noqa: E402
from dalda.guidance import GUIDANCE, HIGH, LOW, BoundSampler, SamplingContext, bind, clipscore_group  # noqa: E402
from dalda.scorers import SCORERS  # noqa: E402


def legend_beside(ax: Any, fontsize: int = 7) -> None:
    """The legend to the right of the axes, outside the plotted area, so it never hides a curve or a point
    (``save_figure`` crops to include it)."""
    ax.legend(fontsize=fontsize, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)


def save_figure(figure: Figure, path: Path) -> Path:
    figure.tight_layout()
    with atomic_open(path, "wb") as handle:
        figure.savefig(handle, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    return path


@lru_cache(maxsize=None)
def _key(path: str) -> str:
    """One spelling per file, so a manifest line's or plan row's source path matches the score file's path."""
    return os.path.realpath(path)


# ------------------------------------------------------------------------------------ the paper's figures

Metric = Callable[[RunRecord], float | None]


def _grid(rows: int, cols: int, width: float = 4.2, height: float = 3.2) -> tuple[Figure, list[list[plt.Axes]]]:
    figure, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    return figure, [list(row) for row in axes]


def _datasets(records: Sequence[RunRecord]) -> list[str]:
    return dataset_order([record.dataset for record in records])


def _curve(records: Sequence[RunRecord], x_of: Callable[[RunRecord], float], metric: Metric):
    """x values, means and stds (0 for one trial) of ``metric`` grouped by ``x_of``, sorted by x."""
    by_x: dict[float, list[float]] = defaultdict(list)
    for record in records:
        value = metric(record)
        if value is not None:
            by_x[x_of(record)].append(value)
    xs = sorted(by_x)
    stats = [summarize(by_x[x]) for x in xs]
    return xs, [s.mean for s in stats], [s.std or 0.0 for s in stats]


def clipscore_histograms(
    scores: dict[str, dict[str, float]], groups: dict[str, DatasetGroup], alphas: dict[str, float], path: Path
) -> Path | None:
    """Fig. 4: the CLIPScore distribution of each dataset's real images, with α and the mean marked."""
    datasets = [dataset for dataset in dataset_order(list(scores)) if scores[dataset]]
    if not datasets:
        return None
    figure, axes = _grid(1, len(datasets))
    for ax, dataset in zip(axes[0], datasets):
        values = list(scores[dataset].values())
        mean = sum(values) / len(values)
        ax.hist(values, bins=20, range=(0.0, 1.0), color="#4C72B0", edgecolor="white")
        ax.axvline(alphas[dataset], color="#C44E52", linestyle="--", label=f"α = {alphas[dataset]:g}")
        ax.axvline(mean, color="#55A868", label=f"mean = {mean:.4f}")
        ax.set_title(f"{dataset_title(dataset, groups.get(dataset))}, {len(values)} images")
        ax.set_xlabel("CLIPScore")
        ax.set_ylabel("real images")
        legend_beside(ax, fontsize=8)
    return save_figure(figure, path)


def lambda_distribution(records: Sequence[RunRecord], path: Path) -> Path | None:
    """The λ of every planned image per dataset and method (AGS vs RS; fixed λ is a single bar, left out)."""
    panels: dict[str, dict[MethodLabel, list[float]]] = defaultdict(lambda: defaultdict(list))
    labels: dict[str, MethodLabel] = {}  # one per name, so a method's runs share one bar
    for record in records:
        if record.base_label.sampler is not None and record.base_label.fixed_lambda is None:
            panels[record.dataset][labels.setdefault(record.method, record.label)] += plan_lambdas(record)
    panels = {d: {m: v for m, v in panels[d].items() if v} for d in _datasets(records) if d in panels}
    panels = {d: methods for d, methods in panels.items() if methods}
    if not panels:
        return None
    figure, axes = _grid(1, len(panels))
    for ax, (dataset, methods) in zip(axes[0], panels.items()):
        lambda_histogram(ax, methods)
        ax.set_title(dataset_title(dataset))
    return save_figure(figure, path)


def lambda_histogram(ax: plt.Axes, methods: dict[MethodLabel, list[float]]) -> None:
    """One bar per method side by side in each λ bin, so methods with identical draws stay visible."""
    labels = sorted(methods, key=lambda label: label.sort_key)
    upper = max(1.0, *(max(methods[label]) for label in labels))
    ax.hist([methods[label] for label in labels], bins=20, range=(0.0, upper), histtype="bar", rwidth=0.9,
            label=[f"{label.title} ({len(methods[label])})" for label in labels])  # fmt: skip
    ax.set_xlabel("IP-Adapter weight λ")
    ax.set_ylabel("synthetic images")
    legend_beside(ax)


def _lines_by_method(
    ax: plt.Axes, records: Sequence[RunRecord], x_of: Callable[[RunRecord], float], metric: Metric
) -> bool:
    drawn = False
    for method in _labels(records, lambda r: r.label):
        xs, means, stds = _curve([r for r in records if r.method == method.name], x_of, metric)
        if xs:
            ax.errorbar(xs, means, yerr=stds, marker="o", capsize=3, label=method.title)
            drawn = True
    return drawn


def _labels(records: Sequence[RunRecord], label_of: Callable[[RunRecord], MethodLabel]) -> list[MethodLabel]:
    """The records' methods (``label_of``), one per name, in table order."""
    labels = {label_of(record).name: label_of(record) for record in records}
    return sorted(labels.values(), key=lambda label: label.sort_key)


def _versus_shots(records: Sequence[RunRecord], metrics: Sequence[tuple[str, Metric]], path: Path) -> Path | None:
    """One line per method over shots; fixed-λ runs are left out (their sweep is Fig. 8)."""
    records = [r for r in records if r.label.fixed_lambda is None]
    if len({r.shots for r in records}) < 2:
        return None
    datasets = _datasets(records)
    figure, axes = _grid(len(datasets), len(metrics))
    for row, dataset in zip(axes, datasets):
        mine = [r for r in records if r.dataset == dataset]
        for ax, (name, metric) in zip(row, metrics):
            if _lines_by_method(ax, mine, lambda r: r.shots, metric):
                legend_beside(ax)
            ax.set_xscale("log", base=2)
            ax.set_xticks(sorted({r.shots for r in mine}), [str(s) for s in sorted({r.shots for r in mine})])
            ax.set_xlabel("shots per class")
            ax.set_ylabel(name)
            ax.set_title(f"{dataset_title(dataset)}: {name}")
    return save_figure(figure, path)


def accuracy_vs_shots(records: Sequence[RunRecord], path: Path) -> Path | None:
    """Fig. 7: accuracy against shots per class, one line per method, a panel per dataset and classifier."""
    metrics = [(classifier_title(c), accuracy_of(c)) for c in classifiers_of(records)]
    return _versus_shots(records, metrics, path) if metrics else None


def diversity_vs_shots(records: Sequence[RunRecord], path: Path) -> Path | None:
    """Fig. 6: each diversity metric (CLIP-I, LPIPS) against shots per class, one line per method."""
    with_diversity = [r for r in records if any(value is not None for value in r.diversity.values())]
    metrics = [(title, value) for title, value, _ in diversity_columns(with_diversity)]
    return _versus_shots(with_diversity, metrics, path) if with_diversity else None


def _values(records: Sequence[RunRecord], metric: Metric) -> list[float]:
    return [value for value in map(metric, records) if value is not None]


def accuracy_vs_fixed_lambda(records: Sequence[RunRecord], shots: int, path: Path) -> Path | None:
    """Fig. 8: accuracy against a fixed λ per prompt source (Base, LLM, template, ...); dashed lines: each curve's
    mean; solid: DALDA, or its recipe from the grid's prompt source (``dalda.methods.reference_for``)."""
    chosen = [r for r in records if r.shots == shots]
    fixed = [r for r in chosen if r.label.variant_of is None and r.label.fixed_lambda is not None]
    if not fixed:
        return None
    datasets = _datasets(fixed)
    classifiers = classifiers_in_figure_order(fixed)  # the paper: ResNet row first
    if not classifiers:
        return None
    sources = list(dict.fromkeys(str(label.prompt_source) for label in _labels(fixed, lambda r: r.label)))
    colours = {"base": "#4C72B0", "llm": "#DD8452", "template": "#55A868", "file": "#8172B3"}
    figure, axes = _grid(len(classifiers), len(datasets))
    for row, classifier in zip(axes, classifiers):
        metric = accuracy_of(classifier)
        for ax, dataset in zip(row, datasets):
            for source in sources:
                mine = [r for r in fixed if r.dataset == dataset and r.label.prompt_source == source]
                xs, means, stds = _curve(mine, lambda r: r.label.fixed_lambda, metric)
                if not xs:
                    continue
                label, colour = prompt_title(source), colours.get(source, "#937860")
                ax.errorbar(xs, means, yerr=stds, marker="o", capsize=3, color=colour, label=f"{label}, fixed λ")
                ax.axhline(sum(means) / len(means), color=colour, linestyle="--", label=f"{label} mean")
            here = [r for r in chosen if r.dataset == dataset]
            reference = reference_for([r.label for r in here])  # DALDA, or its recipe from another source
            if reference is not None:
                dalda = summarize(_values([r for r in here if r.method == reference.name], metric))
                if dalda is not None:
                    ax.axhline(dalda.mean, color="#C44E52", label=reference.title)
            ax.set_xlabel("fixed IP-Adapter weight λ")
            ax.set_ylabel(classifier_title(classifier))
            ax.set_title(f"{dataset_title(dataset)}: {classifier_title(classifier)}")
            legend_beside(ax)
    return save_figure(figure, path)


def metrics_vs_num_prompts(records: Sequence[RunRecord], shots: int, path: Path) -> Path | None:
    """Fig. 9: accuracy and diversity against the number of LLM prompts M, one line per method (RS vs AGS)."""
    llm = [r for r in records if r.shots == shots and r.config.prompts.source == "llm" and r.base_method != "none"]
    if len({r.num_prompts for r in llm}) < 2:
        return None
    metrics = [(classifier_title(c), accuracy_of(c)) for c in classifiers_of(llm)]
    metrics += [(title, value) for title, value, _ in diversity_columns(llm)]
    datasets = _datasets(llm)
    figure, axes = _grid(len(datasets), len(metrics))
    for row, dataset in zip(axes, datasets):
        mine = [r for r in llm if r.dataset == dataset]
        for ax, (name, metric) in zip(row, metrics):
            for method in _labels(mine, lambda r: r.base_label):
                runs = [r for r in mine if r.base_method == method.name]
                xs, means, stds = _curve(runs, lambda r: r.num_prompts, metric)
                if xs:
                    ax.errorbar(xs, means, yerr=stds, marker="o", capsize=3, label=method.title)
            ax.set_xlabel("LLM prompts per class (M)")
            ax.set_ylabel(name)
            ax.set_title(f"{dataset_title(dataset)}: {name}")
            if ax.get_legend_handles_labels()[0]:
                legend_beside(ax)
    return save_figure(figure, path)


# ---------------------------------------------------------------------------------------- λ against score

GROUP_COLOURS = {LOW: "#DD8452", HIGH: "#4C72B0", None: "#777777"}
GROUP_NAMES = {LOW: "Low (score ≤ α)", HIGH: "High (score > α)", None: "no group"}


@dataclass(frozen=True)
class LambdaPoint:
    score: float
    ip_scale: float
    group: str | None


def bound_sampler(record: RunRecord, scores: dict[str, float]) -> BoundSampler:
    """The run's λ sampler bound as the plan stage bound it (a quantile α resolved on the same scores)."""
    context = SamplingContext(record.shots, list(scores.values()), SCORERS.get(record.score_variant).default_alpha)
    return bind(record.config.guidance, context)


def lambda_points(record: RunRecord, scores: dict[str, float], alpha: float | None) -> list[LambdaPoint]:
    """(score, λ, group) of every planned row with a λ and a known score."""
    if not record.run.plan.is_file():
        return []
    points = []
    for row in PlanRow.read_all(record.run):
        score = scores.get(_key(row.source_path), row.clipscore)
        if row.ip_scale is None or score is None:
            continue
        group = row.group if row.group in (LOW, HIGH) or alpha is None else clipscore_group(score, alpha)
        points.append(LambdaPoint(float(score), float(row.ip_scale), group))
    return points


def sampler_band(sampler: BoundSampler, xs: np.ndarray) -> dict[str, np.ndarray]:
    """low, high, centre and group (None without a threshold) of the bound sampler at every x, as arrays."""
    bands = [sampler.band(float(x)) for x in xs]
    threshold = sampler.threshold
    return {
        "low": np.array([band[0] for band in bands]),
        "high": np.array([band[1] for band in bands]),
        "centre": np.array([sampler.centre(float(x)) for x in xs]),
        "group": np.array([None if threshold is None else clipscore_group(float(x), threshold) for x in xs]),
    }


def _draw_band(ax: plt.Axes, sampler: BoundSampler, title: str) -> None:
    xs = np.linspace(0.0, 1.0, 401)
    band = sampler_band(sampler, xs)
    for group in (LOW, HIGH, None):
        mask = band["group"] == group
        if not mask.any():
            continue
        colour = GROUP_COLOURS[group]
        suffix = f", {group}" if group else ""
        if np.allclose(band["low"][mask], band["high"][mask]):
            ax.plot(xs[mask], band["low"][mask], color=colour, linestyle="--", linewidth=1, label=f"{title} λ{suffix}")
            continue
        ax.fill_between(xs[mask], band["low"][mask], band["high"][mask], color=colour, alpha=0.15, linewidth=0,
                        label=f"{title} range{suffix}")  # fmt: skip
        ax.plot(xs[mask], band["centre"][mask], color=colour, linestyle="--", linewidth=1, label=f"{title} μ{suffix}")
    if sampler.threshold is not None:
        ax.axvline(sampler.threshold, color="#C44E52", linestyle=":", label=f"α = {sampler.threshold:.3g}")


def lambda_vs_score(records: Sequence[RunRecord], path: Path) -> Path | None:
    """The scatter of λ against score with the band it was drawn from; None when no run has both."""
    panels = []
    for dataset, cell in showcase_cells(records, lambda record: record.run.plan.is_file()):
        for record in cell:
            scores = run_scores(record)
            sampler = bound_sampler(record, scores)
            points = lambda_points(record, scores, sampler.threshold)
            if points:
                panels.append((dataset, record, sampler, points))
    if not panels:
        return None
    cols = min(len(panels), 3)
    rows = -(-len(panels) // cols)
    figure, axes = _grid(rows, cols, width=6.2, height=3.6)
    flat = [ax for row in axes for ax in row]
    for ax, (dataset, record, sampler, points) in zip(flat, panels):
        _draw_band(ax, sampler, GUIDANCE.get(record.config.guidance.strategy).title)
        for group in (LOW, HIGH, None):
            mine = [p for p in points if p.group == group]
            if mine:
                ax.scatter([p.score for p in mine], [p.ip_scale for p in mine], s=14, color=GROUP_COLOURS[group],
                           edgecolor="white", linewidth=0.4, label=f"{GROUP_NAMES[group]}: {len(mine)}", zorder=3)  # fmt: skip
        ax.set_xlim(0.0, 1.0)
        ax.set_ylim(0.0, max(1.0, max(p.ip_scale for p in points) + 0.05))
        ax.set_xlabel(f"alignment score of the real image ({record.score_variant})")
        ax.set_ylabel("IP-Adapter weight λ")
        ax.set_title(f"{dataset_title(dataset)}, {record.label.title}\n{cell_title([record])}", fontsize=9)
        legend_beside(ax, fontsize=6)
    for ax in flat[len(panels) :]:
        ax.axis("off")
    return save_figure(figure, path)


# ------------------------------------------------------------------------------------------------- Fig. 5

PREFIX = "best quality, high quality, "


@dataclass(frozen=True)
class GridFigure:
    path: Path
    dataset: str
    real_path: str
    score: float
    kind: str
    """"highest" or "lowest" CLIPScore."""


def shorten_prompt(prompt: str, width: int = 28, lines: int = 2) -> str:
    """The prompt without the quality prefix, wrapped and cut to fit under a thumbnail."""
    text = prompt.removeprefix(PREFIX)
    return "\n".join(textwrap.wrap(text, width, max_lines=lines, placeholder=" …"))


def image_label(row: dict[str, Any]) -> str:
    """λ of an IP-Adapter image, strength of an img2img baseline image, and the shortened prompt."""
    if isinstance(row.get("strength"), (int, float)):
        guide = f"strength {row['strength']:g}"
    elif isinstance(row.get("ip_scale"), (int, float)):
        guide = f"λ = {row['ip_scale']:.2f}"
    else:
        guide = ""
    return f"{guide}\n{shorten_prompt(str(row.get('prompt', '')))}".strip()


def _draw(
    real_path: str, score: float, title: str, rows: dict[MethodLabel, list[dict[str, Any]]], path: Path
) -> Path:
    methods = sorted(rows, key=lambda label: label.sort_key)
    per_method = max(len(images) for images in rows.values())
    class_name = next(iter(rows.values()))[0].get("class_name", "")
    figure = plt.figure(figsize=(1.9 * (per_method + 1.2), 2.3 * len(methods) + 0.6))
    grid = GridSpec(len(methods), per_method + 1, figure=figure, width_ratios=[1.2] + [1] * per_method)
    real = figure.add_subplot(grid[:, 0])
    real.imshow(load_rgb(Path(real_path)))
    real.set_title(f"real image: {class_name}\nCLIPScore {score:.3f}", fontsize=9)
    real.axis("off")
    for i, method in enumerate(methods):
        for j in range(per_method):
            ax = figure.add_subplot(grid[i, j + 1])
            ax.set_xticks([])
            ax.set_yticks([])
            if j < len(rows[method]):
                row = rows[method][j]
                ax.imshow(load_rgb(row["path"]))
                ax.set_xlabel(image_label(row), fontsize=6)
            else:
                ax.axis("off")
            if j == 0:
                ax.set_ylabel(textwrap.fill(method.title, 16), fontsize=8)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    with atomic_open(path, "wb") as handle:
        figure.savefig(handle, format="png", dpi=100)
    plt.close(figure)
    return path


def image_grids(
    records: Sequence[RunRecord], scores: dict[str, dict[str, float]], folder: Path, per_method: int = 4
) -> list[GridFigure]:
    """Fig. 5 per dataset, for its first (shots, trial) with synthetic images: highest- and lowest-score image."""
    figures: list[GridFigure] = []
    for dataset in dataset_order([record.dataset for record in records]):
        with_images = [(r, synthetic_rows(r)) for r in records if r.dataset == dataset]
        with_images = [(r, rows) for r, rows in with_images if rows]
        if not with_images:
            continue
        shots, trial = min((r.shots, r.trial) for r, _ in with_images)
        cell = [(r, rows) for r, rows in with_images if (r.shots, r.trial) == (shots, trial)]
        sources = {_key(str(row.get("source_path"))) for _, rows in cell for row in rows}
        scored = {path: value for path, value in scores.get(dataset, {}).items() if _key(path) in sources}
        if not scored:
            continue
        ranked = sorted(scored, key=scored.get)
        picks = [("highest", ranked[-1])] + ([("lowest", ranked[0])] if len(ranked) > 1 else [])
        for kind, real_path in picks:
            rows = {
                r.label: sorted(
                    (row for row in manifest if _key(str(row.get("source_path"))) == _key(real_path)),
                    key=lambda row: (row.get("m", 0), row.get("row_id", 0)),
                )[:per_method]
                for r, manifest in cell
            }
            rows = {method: mine for method, mine in rows.items() if mine}
            title = f"{dataset_title(dataset)}, {shots}-shot trial {trial}: {kind} CLIPScore image"
            path = folder / f"fig5_{_slug(dataset)}_{kind}.png"
            if not rows:
                continue
            _draw(real_path, scored[real_path], title, rows, path)
            figures.append(GridFigure(path, dataset, real_path, scored[real_path], kind))
    return figures


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)


# ----------------------------------------------------------------------------------------- per-class gain

MAX_BARS = 40


def gain_chart(rows: list[ClassRow], title: str, classifier: str, path: Path) -> Path | None:
    """Horizontal bars of the per-class gain over real only, sorted; None when no class has both numbers."""
    gains = sorted(((row.gain, row.name) for row in rows if row.gain is not None), key=lambda item: (-item[0], item[1]))
    if not gains:
        return None
    note = ""
    total = len(gains)
    if total > MAX_BARS:
        half = MAX_BARS // 2
        note = f"\nthe {half} largest and {half} smallest gains of {total} classes"
        gains = gains[:half] + gains[-half:]
    figure, axes = plt.subplots(figsize=(7.5, 1.2 + 0.24 * len(gains)))
    values = [gain for gain, _ in gains]
    positions = range(len(gains))
    colours = ["#2e7d32" if gain > 0 else "#c62828" if gain < 0 else "#9e9e9e" for gain in values]
    axes.barh(list(positions), values, color=colours)
    axes.set_yticks(list(positions), [name for _, name in gains], fontsize=8)
    axes.invert_yaxis()
    axes.axvline(0.0, color="#333", linewidth=0.8)
    if total > MAX_BARS:
        axes.axhline(MAX_BARS // 2 - 0.5, color="#777", linestyle="--", linewidth=0.8)  # classes left out here
    axes.set_xlabel(f"{classifier_title(classifier)}: accuracy of this run − real images only")
    axes.set_title(f"Per-class gain over real images only\n{title}{note}", fontsize=9)
    return save_figure(figure, path)


# ------------------------------------------------------------------------------------- confusion heat-map

MAX_HEATMAP_CLASSES = 30
MAX_ANNOTATED = 12


def heatmap(matrix: list[list[int]], classes: list[str], title: str, classifier: str, path: Path) -> Path | None:
    """The row-normalised confusion matrix; None above ``MAX_HEATMAP_CLASSES`` classes."""
    if not classes or len(classes) > MAX_HEATMAP_CLASSES:
        return None
    counts = np.asarray(matrix, dtype=np.float64)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    size = 2.5 + 0.3 * len(classes)
    figure, axes = plt.subplots(figsize=(size + 1.2, size))
    image = axes.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    ticks = list(range(len(classes)))
    axes.set_xticks(ticks, classes, rotation=90, fontsize=7)
    axes.set_yticks(ticks, classes, fontsize=7)
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    axes.set_title(f"Confusions of {classifier_title(classifier)}, {title}", fontsize=9)
    if len(classes) <= MAX_ANNOTATED:
        for i in ticks:
            for j in ticks:
                if counts[i, j]:
                    colour = "white" if shares[i, j] > 0.5 else "black"
                    axes.text(j, i, str(int(counts[i, j])), ha="center", va="center", fontsize=7, color=colour)
    figure.colorbar(image, ax=axes, label="share of the true class's images")
    return save_figure(figure, path)


# ---------------------------------------------------------------------------------------- training curves

CURVE_NAMES = ("loss", "training accuracy", "evaluation macro accuracy", "evaluation micro accuracy")


def _series(values: Any) -> list[float]:
    if not isinstance(values, list):
        return []
    return [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]


def stored_curves(result: ClassifierResult) -> dict[str, list[tuple[int, float]]]:
    """name -> (epoch, value) points of every curve the results file stores (empty when it stores none)."""
    training = result.training or {}
    curves: dict[str, list[tuple[int, float]]] = {}
    for name, key in (("loss", "epoch_losses"), ("training accuracy", "epoch_train_accuracies")):
        values = _series(training.get(key))
        if values:
            curves[name] = list(enumerate(values, start=1))
    evaluated = result.epochs or []
    if len(evaluated) <= 1 and isinstance(training.get("epoch_eval_accuracies"), list):
        evaluated = training["epoch_eval_accuracies"] or evaluated  # fast: every epoch on cached features
    for metric in ("macro", "micro"):
        points = [
            (int(entry["epoch"]), float(entry[f"{metric}_accuracy"]))
            for entry in evaluated
            if isinstance(entry, dict) and isinstance(entry.get("epoch"), int)
            and isinstance(entry.get(f"{metric}_accuracy"), (int, float))
        ]  # fmt: skip
        if points:
            curves[f"evaluation {metric} accuracy"] = points
    return curves


def curves_chart(
    result: ClassifierResult, reference: ClassifierResult | None, title: str, classifier: str, path: Path
) -> Path | None:
    """Loss (left) and accuracy (right) per epoch; None when the results file stores no loss."""
    ours = stored_curves(result)
    if "loss" not in ours:
        return None
    theirs = stored_curves(reference) if reference is not None and reference is not result else {}
    figure, (loss_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(10, 3.4))
    colours = dict(zip(CURVE_NAMES, ("#333333", "#1f77b4", "#d62728", "#ff7f0e")))
    for curves, style, label in ((ours, "-", "this run"), (theirs, "--", "real only")):
        for name, points in curves.items():
            xs, ys = zip(*points)
            axes = loss_axes if name == "loss" else accuracy_axes
            text = label if name == "loss" else f"{name} ({label})"
            axes.plot(xs, ys, style, marker="o", markersize=3, color=colours.get(name), label=text)
    for axes in (loss_axes, accuracy_axes):
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    loss_axes.set(xlabel="epoch", ylabel="mean cross-entropy", title=f"{classifier_title(classifier)} loss")
    accuracy_axes.set(xlabel="epoch", ylabel="accuracy", title=f"{classifier_title(classifier)} accuracy", ylim=(0, 1))
    legend_beside(loss_axes)
    if accuracy_axes.lines:
        legend_beside(accuracy_axes)
    figure.suptitle(title, fontsize=9)
    return save_figure(figure, path)
