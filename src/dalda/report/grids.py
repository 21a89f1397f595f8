"""Fig. 5: a real image beside the synthetic images each method made from it.

For each dataset the real images with the highest and the lowest CLIPScore are shown (where AGS behaves most
differently: more text guidance for the first, more image guidance for the second). One figure per real
image: the real image on the left, then one row per method holding the first few synthetic images made from
it, each labelled with its λ (or img2img strength) and its prompt, shortened.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.gridspec import GridSpec  # noqa: E402

from dalda.images import load_rgb  # noqa: E402
from dalda.methods import method_sort_key, method_title  # noqa: E402
from dalda.io import atomic_open  # noqa: E402
from dalda.report.collect import RunRecord, synthetic_rows  # noqa: E402
from dalda.report.groups import dataset_order, dataset_title  # noqa: E402

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


@lru_cache(maxsize=None)
def _key(path: str) -> str:
    """One spelling per file, so a manifest's source path matches the score file's path."""
    return os.path.realpath(path)


def _draw(real_path: str, score: float, title: str, rows: dict[str, list[dict[str, Any]]], path: Path) -> Path:
    methods = sorted(rows, key=method_sort_key)
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
                ax.set_ylabel(textwrap.fill(method_title(method), 16), fontsize=8)
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
                r.method: sorted(
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
