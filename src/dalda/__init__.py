"""dalda: turn a few real images per class into a useful synthetic training set (DALDA).

The Python API (``dalda.api``, documented there and in `docs/usage.md`): ``DaldaConfig``, ``load_config``, ``run``,
``Augmenter`` and ``SyntheticImage``. They load on first use, so ``import dalda`` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

__all__ = ["Augmenter", "DaldaConfig", "SyntheticImage", "__version__", "load_config", "run"]


def __getattr__(name: str) -> Any:
    if name in __all__ and name != "__version__":
        return getattr(importlib.import_module("dalda.api"), name)
    raise AttributeError(f"module 'dalda' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
