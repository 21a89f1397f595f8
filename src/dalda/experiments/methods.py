"""The paper's methods by name: which config values make each one, which stages it needs, how tables name it.

One table (like timm's model registry) instead of if/elif chains in the runner and the report. A method is a
set of config overrides; its name is exactly what :func:`dalda.config.method_label` returns for the resulting
config, so a run directory can always be mapped back to its method. ``base-fixed-<λ>`` / ``llm-fixed-<λ>``
are parsed rather than listed, since the paper sweeps λ = 0.0, 0.1, ..., 1.0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

ALL_STAGES = ("data", "score", "prompts", "plan", "generate", "train", "evaluate")
REAL_ONLY_STAGES = ("data", "train", "evaluate")
DALDA = "llm-ags"
"""The paper's method (LLM Prompt + AGS); the report tests every other method against it."""

_FIXED = re.compile(r"^(base|llm)-fixed-(\d+(?:\.\d+)?)$")


@dataclass(frozen=True)
class Method:
    name: str
    title: str
    """How the paper's tables and figures name the method."""
    overrides: dict[str, Any] = field(default_factory=dict)
    """Nested config values ``{section: {field: value}}`` that define the method."""
    stages: tuple[str, ...] = ALL_STAGES


def _ip_adapter(source: str, strategy: str, **guidance: Any) -> dict[str, Any]:
    return {
        "prompts": {"source": source},
        "guidance": {"strategy": strategy, **guidance},
        "generator": {"name": "ip-adapter"},
    }


METHODS: dict[str, Method] = {
    method.name: method
    for method in (
        Method("none", "Real images only", {"train": {"synthetic_probability": 0.0}}, REAL_ONLY_STAGES),
        Method(
            "real-guidance",
            "Real Guidance",
            {"generator": {"name": "real-guidance"}, "prompts": {"source": "base"}},
        ),
        Method("da-fusion", "DA-Fusion", {"generator": {"name": "da-fusion"}, "prompts": {"source": "base"}}),
        Method("base-rs", "Base Prompt + RS", _ip_adapter("base", "random")),
        Method("base-ags", "Base Prompt + AGS", _ip_adapter("base", "ags")),
        Method("llm-rs", "LLM Prompt + RS", _ip_adapter("llm", "random")),
        Method(DALDA, "LLM Prompt + AGS (DALDA)", _ip_adapter("llm", "ags")),
    )
}


def canonical_name(name: str) -> str:
    """The registry spelling of a method name: ``llm-fixed-0.50`` -> ``llm-fixed-0.5`` (as method_label writes it)."""
    match = _FIXED.match(name)
    if match:
        return f"{match.group(1)}-fixed-{float(match.group(2)):g}"
    return name


def get_method(name: str) -> Method:
    """The method called ``name``; an unknown name is an error that lists the known ones."""
    name = canonical_name(name)
    if name in METHODS:
        return METHODS[name]
    match = _FIXED.match(name)
    if match:
        source, scale = match.group(1), float(match.group(2))
        prompt = "Base Prompt" if source == "base" else "LLM Prompt"
        return Method(name, f"{prompt} + λ={scale:g}", _ip_adapter(source, "fixed", fixed_scale=scale))
    raise ValueError(
        f"unknown method {name!r}; choose one of {sorted(METHODS)} or base-fixed-<λ> / llm-fixed-<λ> "
        "(e.g. llm-fixed-0.3)"
    )


def fixed_scale(name: str) -> tuple[str, float] | None:
    """(prompt source, λ) of a fixed-λ method name, None for any other method."""
    match = _FIXED.match(name)
    return (match.group(1), float(match.group(2))) if match else None


def method_title(name: str) -> str:
    """Paper-style name of a method; names outside the registry (aliases in a grid) are shown as written."""
    try:
        return get_method(name).title
    except ValueError:
        return name


def method_sort_key(name: str) -> tuple[int, float, str]:
    """Order of rows in tables and lines in plots: the paper's table order, then fixed λ, then the rest."""
    order = list(METHODS)
    if name in METHODS:
        return (order.index(name), 0.0, name)
    fixed = fixed_scale(name)
    if fixed is not None:
        return (len(order) + (0 if fixed[0] == "base" else 1), fixed[1], name)
    return (len(order) + 2, 0.0, name)
