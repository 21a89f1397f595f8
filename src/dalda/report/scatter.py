"""λ against alignment score: each planned image's IP-Adapter weight over its real image's score (AGS at a glance).

One panel per dataset and method (the first (shots, trial) cell, ``dalda.report.cells``). Points are the rows of
``plan.jsonl``: x is the source image's value in ``scores.jsonl`` under the run's ``score.variant`` (the row's own
``clipscore`` when the image is missing there), y its λ, the colour its Low/High group as the plan recorded it.
Behind the points, the band λ was drawn from and where the draws centre (AGS: the range and μ per group; RS: the
uniform range; a fixed λ: its line), from the run's own λ sampler bound as the plan stage binds it
(``dalda.guidance``: α resolved on the same scores), and the threshold α when the sampler has one.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dalda.artefacts import PlanRow, ScoreRecord
from dalda.guidance import GUIDANCE, HIGH, LOW, BoundSampler, SamplingContext, bind, clipscore_group
from dalda.methods import method_title
from dalda.report.cells import cell_title, showcase_cells
from dalda.report.collect import RunRecord
from dalda.report.groups import dataset_title
from dalda.report.charts import plt, save_figure
from dalda.report.plots import _grid
from dalda.scorers import SCORERS

GROUP_COLOURS = {LOW: "#DD8452", HIGH: "#4C72B0", None: "#777777"}
GROUP_NAMES = {LOW: "Low (score ≤ α)", HIGH: "High (score > α)", None: "no group"}


@dataclass(frozen=True)
class LambdaPoint:
    score: float
    ip_scale: float
    group: str | None


def _key(path: str) -> str:
    return os.path.realpath(path)


def run_scores(record: RunRecord) -> dict[str, float]:
    """real image (resolved path) -> its alignment value under the run's variant, from ``scores.jsonl``."""
    if not record.run.scores.is_file():
        return {}
    scorer = SCORERS.get(record.score_variant)
    return {_key(score.path): scorer.value(score.measures) for score in ScoreRecord.read_all(record.run)}


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
        ax.set_title(f"{dataset_title(dataset)}, {method_title(record.method)}\n{cell_title([record])}", fontsize=9)
        ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    for ax in flat[len(panels) :]:
        ax.axis("off")
    return save_figure(figure, path)
