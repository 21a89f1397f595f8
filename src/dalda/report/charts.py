"""matplotlib on the Agg backend for every figure of the report, and saving a figure atomically as PNG."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen before pyplot loads)
from matplotlib.figure import Figure  # noqa: E402

from dalda.io import atomic_open  # noqa: E402

__all__ = ["plt", "save_figure"]


def save_figure(figure: Figure, path: Path) -> Path:
    figure.tight_layout()
    with atomic_open(path, "wb") as handle:
        figure.savefig(handle, format="png", dpi=110)
    plt.close(figure)
    return path
