"""λ against alignment score: each planned image's IP-Adapter weight over its real image's score (AGS at a glance).

One panel per dataset and method (the first (shots, trial) cell, ``dalda.report.cells``). Points are the rows of
``plan.jsonl``: x is the source image's value in ``scores.jsonl`` under the run's ``score.variant`` (the row's own
``clipscore`` when the image is missing there), y its λ, the colour its Low/High group as the plan recorded it.
Behind the points, the band λ was drawn from: for AGS the range and mean μ per group, computed by the same
functions the plan stage samples with (``dalda.scorers.ags_parameters`` and ``sampling_range``, with α resolved by
``resolve_alpha`` as the score and plan stages do); for RS the uniform range; for a fixed λ its line.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dalda.artefacts import PlanRow, ScoreRecord
from dalda.config import GuidanceConfig
from dalda.methods import method_title
from dalda.report.cells import cell_title, showcase_cells
from dalda.report.collect import RunRecord
from dalda.report.groups import dataset_title
from dalda.report.charts import plt, save_figure
from dalda.report.plots import _grid
from dalda.scorers import HIGH, LOW, SCORERS, ags_parameters, clipscore_group, resolve_alpha, sampling_range

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


def resolved_guidance(record: RunRecord, scores: dict[str, float]) -> GuidanceConfig:
    """The run's guidance settings with α as the score and plan stages used it (``alpha_quantile`` resolved)."""
    guidance = record.config.guidance
    if guidance.alpha_quantile is None or not scores:
        return guidance
    return guidance.model_copy(update={"alpha": resolve_alpha(guidance.alpha, guidance.alpha_quantile, list(scores.values()))})


def lambda_points(record: RunRecord, scores: dict[str, float], alpha: float) -> list[LambdaPoint]:
    """(score, λ, group) of every planned row with a λ and a known score."""
    if not record.run.plan.is_file():
        return []
    points = []
    for row in PlanRow.read_all(record.run):
        score = scores.get(_key(row.source_path), row.clipscore)
        if row.ip_scale is None or score is None:
            continue
        group = row.group if row.group in (LOW, HIGH) else clipscore_group(score, alpha)
        points.append(LambdaPoint(float(score), float(row.ip_scale), group))
    return points


def ags_band(guidance: GuidanceConfig, shots: int, xs: np.ndarray) -> dict[str, np.ndarray]:
    """low, high, mu and group (``ags_parameters`` at every x in [0, 1]), as arrays over ``xs``."""
    params = [ags_parameters(float(x), shots, guidance) for x in xs]
    ranges = [sampling_range(p, shots, guidance.ags_variant) for p in params]
    return {
        "low": np.array([r[0] for r in ranges]),
        "high": np.array([r[1] for r in ranges]),
        "mu": np.array([p.mu for p in params]),
        "group": np.array([p.group for p in params]),
    }


def _draw_band(ax: plt.Axes, guidance: GuidanceConfig, shots: int) -> None:
    if guidance.strategy == "ags":
        xs = np.linspace(0.0, 1.0, 401)
        band = ags_band(guidance, shots, xs)
        for group in (LOW, HIGH):
            mask = band["group"] == group
            if not mask.any():
                continue
            colour = GROUP_COLOURS[group]
            ax.fill_between(xs[mask], band["low"][mask], band["high"][mask], color=colour, alpha=0.15, linewidth=0,
                            label=f"AGS range, {group}")  # fmt: skip
            ax.plot(xs[mask], band["mu"][mask], color=colour, linestyle="--", linewidth=1, label=f"AGS μ, {group}")
        ax.axvline(guidance.alpha, color="#C44E52", linestyle=":", label=f"α = {guidance.alpha:.3g}")
    elif guidance.strategy == "random":
        ax.axhspan(guidance.random_min, guidance.random_max, color="#999999", alpha=0.12, label="RS range")
    else:
        ax.axhline(guidance.fixed_scale, color="#999999", linestyle="--", label=f"fixed λ = {guidance.fixed_scale:g}")


def lambda_vs_score(records: Sequence[RunRecord], path: Path) -> Path | None:
    """The scatter of λ against score with the band it was drawn from; None when no run has both."""
    panels = []
    for dataset, cell in showcase_cells(records, lambda record: record.run.plan.is_file()):
        for record in cell:
            scores = run_scores(record)
            guidance = resolved_guidance(record, scores)
            points = lambda_points(record, scores, guidance.alpha)
            if points:
                panels.append((dataset, record, guidance, points))
    if not panels:
        return None
    cols = min(len(panels), 3)
    rows = -(-len(panels) // cols)
    figure, axes = _grid(rows, cols, width=6.2, height=3.6)
    flat = [ax for row in axes for ax in row]
    for ax, (dataset, record, guidance, points) in zip(flat, panels):
        _draw_band(ax, guidance, record.shots)
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
