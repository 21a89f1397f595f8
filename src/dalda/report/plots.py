"""The paper's figures from run records (matplotlib, PNG): Fig. 4, 6, 7, 8, 9 and the λ distribution.

Each function draws one figure when the records hold what it needs (e.g. more than one shot count for the
accuracy-vs-shots curves) and returns its path, or returns None and writes nothing. Points are means over
trials; error bars are the sample std when there is more than one trial.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

from matplotlib.figure import Figure

from dalda.methods import PROMPT_TITLES, fixed_scale, method_sort_key, method_title, reference_for
from dalda.report.charts import plt, save_figure
from dalda.report.collect import RunRecord, plan_lambdas
from dalda.report.groups import DatasetGroup, dataset_order, dataset_title
from dalda.report.stats import summarize
from dalda.report.columns import (
    accuracy_of,
    classifier_title,
    classifiers_in_figure_order,
    classifiers_of,
    diversity_columns,
)

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
        ax.legend(loc="upper left", fontsize=8)
    return save_figure(figure, path)


def lambda_distribution(records: Sequence[RunRecord], path: Path) -> Path | None:
    """The λ of every planned image per dataset and method (AGS vs RS; fixed λ is a single bar, left out)."""
    panels: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for record in records:
        if record.base_method != "none" and fixed_scale(record.base_method) is None:
            panels[record.dataset][record.method] += plan_lambdas(record)  # empty for generators without λ
    panels = {d: {m: v for m, v in panels[d].items() if v} for d in _datasets(records) if d in panels}
    panels = {d: methods for d, methods in panels.items() if methods}
    if not panels:
        return None
    figure, axes = _grid(1, len(panels))
    for ax, (dataset, methods) in zip(axes[0], panels.items()):
        lambda_histogram(ax, methods)
        ax.set_title(dataset_title(dataset))
    return save_figure(figure, path)


def lambda_histogram(ax: plt.Axes, methods: dict[str, list[float]]) -> None:
    """One bar per method side by side in each λ bin, so methods with identical draws stay visible."""
    names = sorted(methods, key=method_sort_key)
    upper = max(1.0, *(max(methods[name]) for name in names))
    ax.hist([methods[name] for name in names], bins=20, range=(0.0, upper), histtype="bar", rwidth=0.9,
            label=[f"{method_title(name)} ({len(methods[name])})" for name in names])  # fmt: skip
    ax.set_xlabel("IP-Adapter weight λ")
    ax.set_ylabel("synthetic images")
    ax.legend(fontsize=7)


def _lines_by_method(
    ax: plt.Axes, records: Sequence[RunRecord], x_of: Callable[[RunRecord], float], metric: Metric
) -> bool:
    drawn = False
    for method in sorted({r.method for r in records}, key=method_sort_key):
        xs, means, stds = _curve([r for r in records if r.method == method], x_of, metric)
        if xs:
            ax.errorbar(xs, means, yerr=stds, marker="o", capsize=3, label=method_title(method))
            drawn = True
    return drawn


def _versus_shots(records: Sequence[RunRecord], metrics: Sequence[tuple[str, Metric]], path: Path) -> Path | None:
    """One line per method over shots; fixed-λ runs are left out (their sweep is Fig. 8)."""
    records = [r for r in records if fixed_scale(r.method) is None]
    if len({r.shots for r in records}) < 2:
        return None
    datasets = _datasets(records)
    figure, axes = _grid(len(datasets), len(metrics))
    for row, dataset in zip(axes, datasets):
        mine = [r for r in records if r.dataset == dataset]
        for ax, (name, metric) in zip(row, metrics):
            if _lines_by_method(ax, mine, lambda r: r.shots, metric):
                ax.legend(fontsize=7)
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
    fixed = [r for r in chosen if fixed_scale(r.method) is not None]
    if not fixed:
        return None
    datasets = _datasets(fixed)
    classifiers = classifiers_in_figure_order(fixed)  # the paper: ResNet row first
    if not classifiers:
        return None
    colours = {"base": "#4C72B0", "llm": "#DD8452", "template": "#55A868", "file": "#8172B3"}
    figure, axes = _grid(len(classifiers), len(datasets))
    for row, classifier in zip(axes, classifiers):
        metric = accuracy_of(classifier)
        for ax, dataset in zip(row, datasets):
            for source, label in PROMPT_TITLES.items():
                mine = [r for r in fixed if r.dataset == dataset and fixed_scale(r.method)[0] == source]
                xs, means, stds = _curve(mine, lambda r: fixed_scale(r.method)[1], metric)
                if not xs:
                    continue
                colour = colours[source]
                ax.errorbar(xs, means, yerr=stds, marker="o", capsize=3, color=colour, label=f"{label}, fixed λ")
                ax.axhline(sum(means) / len(means), color=colours[source], linestyle="--", label=f"{label} mean")
            here = [r for r in chosen if r.dataset == dataset]
            reference = reference_for("", {r.method for r in here})  # DALDA, or its recipe from another source
            dalda = summarize(_values([r for r in here if r.method == reference], metric))
            if dalda is not None:
                ax.axhline(dalda.mean, color="#C44E52", label=method_title(str(reference)))
            ax.set_xlabel("fixed IP-Adapter weight λ")
            ax.set_ylabel(classifier_title(classifier))
            ax.set_title(f"{dataset_title(dataset)}: {classifier_title(classifier)}")
            ax.legend(fontsize=7)
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
            for method in sorted({r.base_method for r in mine}, key=method_sort_key):
                xs, means, stds = _curve([r for r in mine if r.base_method == method], lambda r: r.num_prompts, metric)
                if xs:
                    ax.errorbar(xs, means, yerr=stds, marker="o", capsize=3, label=method_title(method))
            ax.set_xlabel("LLM prompts per class (M)")
            ax.set_ylabel(name)
            ax.set_title(f"{dataset_title(dataset)}: {name}")
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize=7)
    return save_figure(figure, path)
