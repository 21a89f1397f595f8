"""The CLIPScore distribution of a dataset as a histogram, like the paper's Fig. 4."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen before pyplot loads)
from matplotlib.ticker import MaxNLocator  # noqa: E402

from dalda.io import atomic_open  # noqa: E402


def plot_score_histogram(
    values: list[float], alpha: float, title: str, path: Path, bins: int = 20, xlabel: str = "CLIPScore"
) -> None:
    """Histogram on [0, 1] with the Low/High threshold alpha and the mean marked; written atomically as PNG."""
    mean = sum(values) / len(values)
    figure, axes = plt.subplots(figsize=(5, 3.2), dpi=120)
    axes.hist(values, bins=bins, range=(0.0, 1.0), color="#4C72B0", edgecolor="white")
    axes.axvline(alpha, color="#C44E52", linestyle="--", label=f"alpha = {alpha:g}")
    axes.axvline(mean, color="#55A868", label=f"mean = {mean:.4f}")
    axes.set_xlabel(xlabel)
    axes.set_ylabel("images")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title(title)
    axes.legend(loc="upper left", fontsize=8)
    figure.tight_layout()
    with atomic_open(Path(path), "wb") as handle:
        figure.savefig(handle, format="png")
    plt.close(figure)
