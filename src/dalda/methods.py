"""The paper's methods: one table from method name to config, stages and title, read both ways.

A method is a set of config overrides (name -> config, used by the grid runner) and, read backwards, what a
run's config says it ran (config -> name, :func:`method_label`, used by evaluation and the report). Both
directions come from the same :class:`Method` entries, so they cannot drift apart. ``base-fixed-<λ>`` /
``llm-fixed-<λ>`` are parsed rather than listed, since the paper sweeps λ = 0.0, 0.1, ..., 1.0. Adding a method
is one ``METHODS.register`` call (``docs/extending.md``).

Honest labels: an ``llm-*`` method whose prompts no LLM wrote is reported under the name of its actual prompt
source: ``template-ags`` ("Template Prompt + AGS") for the offline ``template`` backend, ``file-ags`` for a
hand-written ``prompts.prompts_file``. This module cannot know which backends are LLMs (``dalda.chat`` sits
above it), so the layer that knows passes the source in: :func:`method_label` takes ``prompt_source``, and the
evaluation and report stages get it from ``dalda.chat.prompt_source`` (the run's prompts record first, else
the config). The report compares each method with DALDA's recipe from the same prompt source
(:func:`reference_for`), so a template-only grid's t-tests are against ``template-ags``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from dalda.config import DaldaConfig
from dalda.registry import Registry

ALL_STAGES = ("data", "score", "prompts", "plan", "generate", "train", "evaluate")
SYNTHESIS_STAGES = ("score", "prompts", "plan", "generate")
"""The stages that make synthetic images; a real-images-only method skips them."""
REAL_ONLY_STAGES = tuple(name for name in ALL_STAGES if name not in SYNTHESIS_STAGES)
DALDA = "llm-ags"
"""The paper's method (LLM Prompt + AGS); the report tests every other method against it."""

_FIXED = re.compile(r"^(base|llm|template|file)-fixed-(\d+(?:\.\d+)?)$")
PROMPT_TITLES = {"base": "Base Prompt", "llm": "LLM Prompt", "template": "Template Prompt", "file": "File Prompt"}
"""How a prompt source is named in method titles; another non-LLM backend's name is shown capitalised."""
_SOURCED = re.compile(r"^([a-z][a-z0-9_]*)-(.+)$")
WEIGHTED_GENERATORS: set[str] = {"ip-adapter"}
"""Generators that take the per-image IP-Adapter weight λ (``uses_guidance``): the λ methods (base/llm × RS, AGS,
fixed λ) are the same method on any of them, the generator being a separate axis (``configs/experiments/beyond.yaml``
runs DALDA on three). ``dalda.generators`` adds every registered generator that uses λ; a generator registered
later from user code adds its own name."""


@dataclass(frozen=True)
class Method:
    name: str
    title: str
    """How the paper's tables and figures name the method."""
    overrides: dict[str, Any] = field(default_factory=dict)
    """Nested config values ``{section: {field: value}}`` that define the method."""
    stages: tuple[str, ...] = ALL_STAGES
    identity: tuple[str, ...] | None = None
    """The ``section.field`` overrides a config must have to be this method (None: all of them); the others
    are only the method's defaults (a baseline run with LLM prompts is still that baseline)."""
    any_weighted_generator: bool = False
    """The method's ``generator.name`` may be any of :data:`WEIGHTED_GENERATORS` (the λ methods)."""

    def matches(self, config: DaldaConfig) -> bool:
        """Whether ``config`` runs this method (its identifying overrides hold in it)."""
        wanted = {
            f"{section}.{key}": value for section, values in self.overrides.items() for key, value in values.items()
        }
        keys = self.identity if self.identity is not None else tuple(wanted)
        for dotted in keys:
            section, key = dotted.split(".")
            value = getattr(getattr(config, section), key)
            if dotted == "generator.name" and self.any_weighted_generator and value in WEIGHTED_GENERATORS:
                continue
            if value != wanted[dotted]:
                return False
        return True


def _ip_adapter(source: str, strategy: str, **guidance: Any) -> dict[str, Any]:
    return {
        "prompts": {"source": source},
        "guidance": {"strategy": strategy, **guidance},
        "generator": {"name": "ip-adapter"},
    }


def _baseline(generator: str, title: str) -> Method:
    overrides = {"generator": {"name": generator}, "prompts": {"source": "base"}}
    return Method(generator, title, overrides, identity=("generator.name",))


METHODS = Registry[Method]("method")
for _method in (
    Method("none", "Real images only", {"train": {"synthetic_probability": 0.0}}, REAL_ONLY_STAGES),
    _baseline("real-guidance", "Real Guidance"),
    _baseline("da-fusion", "DA-Fusion"),
    Method("base-rs", "Base Prompt + RS", _ip_adapter("base", "random"), any_weighted_generator=True),
    Method("base-ags", "Base Prompt + AGS", _ip_adapter("base", "ags"), any_weighted_generator=True),
    Method("llm-rs", "LLM Prompt + RS", _ip_adapter("llm", "random"), any_weighted_generator=True),
    Method(DALDA, "LLM Prompt + AGS (DALDA)", _ip_adapter("llm", "ags"), any_weighted_generator=True),
):
    METHODS.register(_method.name, _method)


def _fixed(source: str, scale: float) -> Method:
    prompt = "Base Prompt" if source == "base" else "LLM Prompt"
    name = f"{source}-fixed-{scale:g}"
    title = f"{prompt} + λ={scale:g}"
    return Method(name, title, _ip_adapter(source, "fixed", fixed_scale=scale), any_weighted_generator=True)


def honest_name(name: str, prompt_source: str | None) -> str:
    """``name`` under the prompt source that really wrote its prompts: ``llm-ags`` with source "template" is
    ``template-ags``; any other name, or source None/"llm", is returned as is."""
    if prompt_source in (None, "llm") or not name.startswith("llm-"):
        return name
    return f"{prompt_source}-{name[len('llm-'):]}"


def relabelled(name: str) -> tuple[str, str] | None:
    """(prompt source, the ``llm-*`` method) of an honest name such as ``template-ags``; None for any other."""
    match = _SOURCED.match(name)
    if match is None or match.group(1) in ("llm", "base"):
        return None
    llm = "llm-" + match.group(2)
    return (match.group(1), llm) if llm in METHODS or _FIXED.match(llm) else None


def prompt_source_of(name: str) -> str:
    """The prompt source a method name says: "llm" for ``llm-*``, "template" for ``template-*`` ..., else ""."""
    found = relabelled(name)
    if found is not None:
        return found[0]
    return name.split("-", 1)[0] if name.startswith(("llm-", "base-")) else ""


def reference_for(name: str, present: set[str] | list[str], reference: str = DALDA) -> str | None:
    """The method ``name`` is compared with in the report: ``reference`` (DALDA) under ``name``'s own prompt
    source when that run exists (``template-rs`` -> ``template-ags``), else ``reference`` itself, else the first
    present variant of it; None when none is present."""
    present = set(present)
    own = honest_name(reference, prompt_source_of(name) or None) if prompt_source_of(name) != "base" else reference
    if own in present:
        return own
    if reference in present:
        return reference
    variants = sorted(m for m in present if (relabelled(m) or ("", ""))[1] == reference)
    return variants[0] if variants else None


def method_of(config: DaldaConfig) -> Method:
    """The method ``config`` runs: the first table entry it matches, else its fixed-λ or generator method."""
    for _, method in METHODS.items():
        if method.matches(config):
            return method
    if config.generator.name in WEIGHTED_GENERATORS and config.guidance.strategy == "fixed":
        return _fixed(config.prompts.source, config.guidance.fixed_scale)
    generator = config.generator.name
    return Method(generator, generator, {"generator": {"name": generator}}, identity=("generator.name",))


def method_label(config: DaldaConfig, prompt_source: str | None = None) -> str:
    """The method a config runs, named as in the paper's tables (e.g. ``llm-ags`` = DALDA, ``base-rs``).

    ``none`` means real images only (synthetic probability 0); ``llm-fixed-0.3`` is a fixed-lambda run;
    ``real-guidance`` and ``da-fusion`` are the baselines. ``prompt_source`` (``dalda.chat.prompt_source``:
    "llm", "template", "file", ...) makes the label honest: ``template-ags`` when no LLM wrote the prompts;
    None keeps the config's own name (what the grid runner checks a cell against).
    """
    return honest_name(method_of(config).name, prompt_source)


def default_stages(config: DaldaConfig) -> list[str]:
    """The stages a single run of ``config`` needs: its method's stages (with ``filter`` after ``generate`` when
    ``filter.enabled``), then its report."""
    stages = list(method_of(config).stages)
    if config.filter.enabled and "generate" in stages and "filter" not in stages:
        stages.insert(stages.index("generate") + 1, "filter")
    return [*stages, "report"]


def canonical_name(name: str) -> str:
    """The table spelling of a method name: ``llm-fixed-0.50`` -> ``llm-fixed-0.5`` (as method_label writes it)."""
    match = _FIXED.match(name)
    if match:
        return f"{match.group(1)}-fixed-{float(match.group(2)):g}"
    return name


def get_method(name: str) -> Method:
    """The method called ``name``; an unknown name is an error that lists the known ones."""
    name = canonical_name(name)
    if name in METHODS:
        return METHODS.get(name)
    fixed = fixed_scale(name)
    if fixed is not None and fixed[0] in ("base", "llm"):
        return _fixed(*fixed)
    raise ValueError(
        f"unknown method {name!r}; choose one of {METHODS.names()} or base-fixed-<λ> / llm-fixed-<λ> "
        "(e.g. llm-fixed-0.3)"
    )


def fixed_scale(name: str) -> tuple[str, float] | None:
    """(prompt source, λ) of a fixed-λ method name, None for any other method."""
    match = _FIXED.match(name)
    return (match.group(1), float(match.group(2))) if match else None


def method_title(name: str) -> str:
    """Paper-style name of a method; names outside the table (aliases in a grid) are shown as written.

    An honest name takes its source's title and never DALDA's: ``template-ags`` is "Template Prompt + AGS"."""
    found = relabelled(canonical_name(name))
    if found is not None:
        source, llm = found
        title = method_title(llm).replace(" (DALDA)", "")
        return title.replace(PROMPT_TITLES["llm"], PROMPT_TITLES.get(source, f"{source.capitalize()} Prompt"))
    try:
        return get_method(name).title
    except ValueError:
        return name


def method_sort_key(name: str) -> tuple[int, float, str]:
    """Order of rows in tables and lines in plots: the paper's table order, then fixed λ, then the rest."""
    order = list(METHODS)
    found = relabelled(name)
    if found is not None:  # beside its llm-* method (ties broken by the name)
        return (*method_sort_key(found[1])[:2], name)
    if name in METHODS:
        return (order.index(name), 0.0, name)
    fixed = fixed_scale(name)
    if fixed is not None:
        return (len(order) + (0 if fixed[0] == "base" else 1), fixed[1], name)
    return (len(order) + 2, 0.0, name)
