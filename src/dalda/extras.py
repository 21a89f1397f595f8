"""Optional dependencies: import one, or fail with one line naming the pip extra that installs it.

The core install (``pip install -e .``) holds everything ``configs/demo.yaml`` runs, LPIPS and matplotlib
included; the extras in ``pyproject.toml`` (``llm``, ``tracking``, ``cluster``, ``docs``, ``test``) name the
packages each optional feature needs. A module that uses such a package imports it through :func:`require`
where the feature starts, so a missing one reads as ``... needs the package 'openai': pip install
'dalda[llm]'`` instead of a bare ``ModuleNotFoundError`` from deep inside a stage.
"""

from __future__ import annotations

import importlib
from types import ModuleType


class MissingExtraError(ImportError, RuntimeError):
    """An optional package a chosen feature needs is not installed; the message names the extra. Also a
    ``RuntimeError``, so the command line prints it as its one-line error like any other failed stage."""


def require(module: str, extra: str, feature: str) -> ModuleType:
    """Import ``module`` (e.g. ``"openai"``) for ``feature`` (how the user chose it, e.g.
    ``"prompts.backend=openai"``); if it is missing, raise :class:`MissingExtraError` naming ``extra``."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        top = module.split(".")[0]
        if error.name is not None and error.name != top and not error.name.startswith(top + "."):
            raise  # the package is there but one of its own dependencies is missing: show that error as is
        raise MissingExtraError(
            f"{feature} needs the package {top!r}, which is not installed: pip install 'dalda[{extra}]' "
            f"(or pip install {top})"
        ) from error
