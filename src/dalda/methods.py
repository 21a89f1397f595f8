"""The paper's methods, named by the entries that make them: a run's method is a pure function of its config.

There is no table of methods. A run's method is what its chosen entries declare about themselves
(``docs/extending.md``, "Method"):

- ``none`` ("Real images only") when the classifier trains on real images alone (``train.synthetic_probability``
  is 0);
- a generator that takes no per-image λ (``Generator.uses_guidance`` false: Real Guidance, DA-Fusion, a plugin)
  is the method, named by its ``generator.name`` and titled by its ``title``;
- on a generator that takes λ, the method is the prompt source and the λ sampler: ``<source>-<part>``, where the
  part is the sampler's ``method_part`` of its settings (``llm-ags``, ``base-rs``, ``llm-fixed-0.3``,
  ``llm-ags-clipped``), titled "<source> Prompt + <the sampler's method_title>" ("LLM Prompt + AGS (DALDA)" for
  the paper's own recipe). The generator is its own axis (``configs/experiments/beyond.yaml``): DALDA on SDXL is
  still ``llm-ags``.

:func:`method_of` reads this into a :class:`MethodLabel` from the registries (``GENERATORS``, ``GUIDANCE``), which
are complete whenever they are asked, so a label never depends on what was imported first, and a generator or λ
sampler registered from user code gets its labels with no extra step.

Honest labels: the prompt source in a label is who really wrote the prompts (``dalda.chat.prompt_source``: the
run's prompts record first, else its config), so ``llm-ags`` run with the offline template backend is
``template-ags`` ("Template Prompt + AGS") and with a hand-written ``prompts.prompts_file`` ``file-ags``. The report
compares each method with DALDA's recipe from the same prompt source (:func:`reference_for`).

The other direction, for grid files (``configs/experiments/*.yaml``): :func:`get_method` turns a method name into
the config overrides that make it, by asking the same entries (a λ sampler reads its part of the name back with
``method_settings``), never by pattern-matching names. What a finished run ran is :func:`planned_method`: the
label the plan stage recorded in ``method.json`` when it made the plan, so a later command's overrides cannot
relabel images they did not make.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, get_args

from dalda import chat
from dalda.artefacts import MethodRecord
from dalda.config import DaldaConfig, GeneratorConfig, PromptsConfig
from dalda.configure import build_config
from dalda.generators import GENERATORS
from dalda.guidance import GUIDANCE
from dalda.ownership import last_stage_config
from dalda.registry import Registry
from dalda.rundir import RunDir

ALL_STAGES = ("data", "score", "prompts", "plan", "generate", "train", "evaluate")
SYNTHESIS_STAGES = ("score", "prompts", "plan", "generate")
"""The stages that make synthetic images; a real-images-only method skips them."""
REAL_ONLY_STAGES = tuple(name for name in ALL_STAGES if name not in SYNTHESIS_STAGES)

REAL_ONLY = "none"
"""The method that trains on real images alone."""
DALDA_PROMPTS = "llm"
DALDA_SAMPLER = "ags"
DALDA = "llm-ags"
"""The paper's method: LLM prompts (:data:`DALDA_PROMPTS`) and Adaptive Guidance Scaling (:data:`DALDA_SAMPLER`);
the report tests every other method against it."""

PROMPT_TITLES = MappingProxyType({"base": "Base Prompt", "llm": "LLM Prompt", "file": "File Prompt"})
"""How a prompt source is named in method titles; any other (a non-LLM chat backend) is its name capitalised."""


def prompt_title(source: str) -> str:
    """"LLM Prompt", "Base Prompt", "Template Prompt" (the template backend), ..."""
    return PROMPT_TITLES.get(source, f"{source.capitalize()} Prompt")


@dataclass(frozen=True)
class MethodLabel:
    """What a run is called in results files, tables and figures, with the entries the name stands for."""

    name: str
    """``llm-ags``, ``template-fixed-0.3``, ``da-fusion``, ``none``, or a grid's own name for a variant."""
    title: str
    """How the paper's tables and figures name it ("LLM Prompt + AGS (DALDA)")."""
    prompt_source: str | None = None
    """Who wrote the prompts, when the label names it (the λ methods): "llm", "base", "template", "file", ..."""
    sampler: str | None = None
    """The λ sampler (``guidance.strategy``) of a λ method; None for ``none`` and generators without λ."""
    generator: str | None = None
    """``generator.name``; None for ``none``."""
    fixed_lambda: float | None = None
    """The one λ every image got (a fixed-λ sweep, paper Fig. 8); None when λ was drawn per image, or not used."""
    variant_of: str | None = None
    """For a grid's variant under its own name (``llm-ags-m5``): the method it varies; None otherwise."""
    sort_key: tuple[int, int, int, float, str] = field(init=False, compare=False, repr=False)
    """Where the method's rows and lines go: :func:`_sort_key`."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "sort_key", _sort_key(self))

    def variant(self, name: str) -> MethodLabel:
        """This method under the name a grid cell gives it. The name is put under the honest prompt source
        (``llm-rs-m5`` whose prompts the template wrote is ``template-rs-m5``); a name that is then the method's
        own (a cell named ``llm-ags``) is the method itself, any other is a variant of it (``llm-ags-m5``):
        titled as named, sorted beside the method, and never taken as a t-test reference."""
        llm = f"{DALDA_PROMPTS}-"
        if self.prompt_source not in (None, DALDA_PROMPTS) and name.startswith(llm):
            name = f"{self.prompt_source}-{name[len(llm):]}"
        if name == self.name:
            return self
        return replace(self, name=name, title=name, variant_of=self.variant_of or self.name)

    def record(self) -> MethodRecord:
        """The plain record the plan stage writes (``method.json``)."""
        return MethodRecord(
            name=self.name, title=self.title, prompt_source=self.prompt_source, sampler=self.sampler,
            generator=self.generator, fixed_lambda=self.fixed_lambda,
        )  # fmt: skip

    @classmethod
    def from_record(cls, record: MethodRecord) -> MethodLabel:
        return cls(
            name=record.name, title=record.title, prompt_source=record.prompt_source, sampler=record.sampler,
            generator=record.generator, fixed_lambda=record.fixed_lambda,
        )  # fmt: skip


def _position(registry: Registry[Any], name: str) -> int:
    """Where ``name`` was registered (built-ins in their declared order, then plugins); unknown names last."""
    names = list(registry)
    return names.index(name) if name in names else len(names)


def _sort_key(label: MethodLabel) -> tuple[int, int, int, float, str]:
    """The paper's table order: real images only, the generators without λ (registration order: Real Guidance,
    DA-Fusion, then plugins), the λ methods (Base Prompt before the others, samplers in ``GUIDANCE`` order: RS
    before AGS), then the fixed-λ sweep by prompt source and λ. Ties (``llm-ags`` and ``template-ags``, a method
    and its variants) are broken by the name."""
    if label.sampler is None:
        if label.generator is None:
            return (0, 0, 0, 0.0, label.name)
        return (1, _position(GENERATORS, label.generator), 0, 0.0, label.name)
    tier = 2 if label.fixed_lambda is None else 3
    prompts = 0 if label.prompt_source == "base" else 1
    return (tier, prompts, _position(GUIDANCE, label.sampler), label.fixed_lambda or 0.0, label.name)


REAL_ONLY_LABEL = MethodLabel(REAL_ONLY, "Real images only")


def method_of(config: DaldaConfig, prompt_source: str | None = None) -> MethodLabel:
    """The method ``config`` runs, named as in the paper's tables (``llm-ags`` = DALDA, ``base-rs``, ...).

    ``prompt_source`` (``dalda.chat.prompt_source``: "llm", "template", "file", ...) makes the label honest:
    ``template-ags`` when no LLM wrote the prompts. None keeps the config's own ``prompts.source`` (what a grid
    cell is checked against). A generator that reads no prompts of the run gets the Base Prompt, so its λ
    methods are ``base-*`` whatever the config says.
    """
    if config.train.synthetic_probability == 0:
        return REAL_ONLY_LABEL
    name = config.generator.name
    generator = GENERATORS.get(name)
    if not generator.uses_guidance:
        return MethodLabel(name, generator.title, generator=name)
    strategy = config.guidance.strategy
    sampler = GUIDANCE.get(strategy)
    settings = sampler.settings_model.of(config.guidance)
    if config.prompts.source == "base" or not generator.uses_prompts:
        source = "base"
    else:
        source = prompt_source or config.prompts.source
    title = f"{prompt_title(source)} + {sampler.method_title(settings)}"
    if (source, strategy) == (DALDA_PROMPTS, DALDA_SAMPLER):
        title += " (DALDA)"
    return MethodLabel(
        name=f"{source}-{sampler.method_part(settings)}", title=title, prompt_source=source, sampler=strategy,
        generator=name, fixed_lambda=sampler.fixed_lambda(settings),
    )  # fmt: skip


def planned_method(config: DaldaConfig, run: RunDir) -> MethodLabel:
    """The method that made the run's plan, and so its synthetic images: the label the plan stage recorded in
    ``method.json``. A run planned before that record existed: the method of the config its plan stage last
    finished with (``history.jsonl``), else of ``config``; both under the prompt source the run's prompts
    record states."""
    recorded = MethodRecord.read_optional(run)
    if recorded is not None:
        return MethodLabel.from_record(recorded)
    planned = config
    made = last_stage_config(run.root, "plan")
    if made is not None:
        try:
            planned = build_config(made, announce=False)
        except ValueError:
            pass  # a history this version cannot read: the config decides, as for a run without history
    return method_of(planned, chat.prompt_source(planned, run))


def run_method(config: DaldaConfig, run: RunDir) -> MethodLabel:
    """What a run is reported as: ``none`` when ``config`` trains on real images alone, else the method that made
    its plan (:func:`planned_method`)."""
    current = method_of(config)
    return current if current.name == REAL_ONLY else planned_method(config, run)


def reference_for(present: Iterable[MethodLabel], prompt_source: str | None = None) -> MethodLabel | None:
    """The run a method is compared with in the report: DALDA's recipe (AGS) written by ``prompt_source`` (the
    compared method's own; ``template-rs`` -> ``template-ags``) when present, else DALDA itself, else the first
    (by name) present AGS run of another non-Base prompt source; None when there is none. Grid variants under
    their own names are never references."""
    recipes = {
        label.prompt_source: label
        for label in present
        if label.variant_of is None and label.sampler == DALDA_SAMPLER and label.prompt_source not in (None, "base")
    }
    own = prompt_source if prompt_source not in (None, "base") else DALDA_PROMPTS
    for source in (own, DALDA_PROMPTS):
        if source in recipes:
            return recipes[source]
    return min(recipes.values(), key=lambda label: label.name, default=None)


def default_stages(config: DaldaConfig) -> list[str]:
    """The stages a single run of ``config`` needs: every stage, or only data, train and evaluate for real
    images only (with ``filter`` after ``generate`` when ``filter.enabled``), then its report."""
    stages = list(REAL_ONLY_STAGES if method_of(config).name == REAL_ONLY else ALL_STAGES)
    if config.filter.enabled and "generate" in stages:
        stages.insert(stages.index("generate") + 1, "filter")
    return [*stages, "report"]


# ------------------------------------------------------------------------------------ names in grid files


@dataclass(frozen=True)
class MethodChoice:
    """What a method name in a grid file asks for."""

    name: str
    """The name in the spelling labels use (``llm-fixed-0.50`` -> ``llm-fixed-0.5``)."""
    overrides: dict[str, Any]
    """Nested config values ``{section: {field: value}}`` that make a config run the method."""


def _grid_prompt_sources() -> tuple[str, ...]:
    """The prompt sources a grid's method name may start with: the values ``prompts.source`` takes."""
    return get_args(PromptsConfig.model_fields["source"].annotation)


def find_method(name: str) -> MethodChoice | None:
    """The method a grid calls ``name``, asked of the entries; None when no entry reads it.

    ``none``; a generator without λ by its name (with ``prompts.source=base`` when it reads no prompts); or
    ``<prompts.source>-<part>``, whose part exactly one λ sampler reads back (``method_settings``), run on the
    default generator (``generator.name``; a grid entry may override it with another that takes λ).
    """
    if name == REAL_ONLY:
        return MethodChoice(REAL_ONLY, {"train": {"synthetic_probability": 0.0}})
    if name in GENERATORS:
        generator = GENERATORS.get(name)
        if generator.uses_guidance:
            return None  # a generator that takes λ runs the λ methods, it is not one
        overrides: dict[str, Any] = {"generator": {"name": name}}
        if not generator.uses_prompts:
            overrides["prompts"] = {"source": "base"}
        return MethodChoice(name, overrides)
    source, _, part = name.partition("-")
    if source not in _grid_prompt_sources():
        return None
    readers = [
        (key, sampler, values)
        for key, sampler in GUIDANCE.items()
        if (values := sampler.method_settings(part)) is not None
    ]
    if not readers:
        return None
    if len(readers) > 1:
        raise ValueError(
            f"method {name!r} is ambiguous: the λ samplers {[key for key, _, _ in readers]} all read {part!r}; "
            "rename one sampler's method_part"
        )
    key, sampler, values = readers[0]
    spelled = sampler.method_part(sampler.settings_model.model_construct(**values))  # checked when the config is built
    overrides = {
        "prompts": {"source": source},
        "guidance": {"strategy": key, **values},
        "generator": {"name": GeneratorConfig.model_fields["name"].default},
    }
    return MethodChoice(f"{source}-{spelled}", overrides)


def method_names() -> list[str]:
    """Every method a grid can name, the λ methods with their samplers' default settings."""
    generators = [name for name, generator in GENERATORS.items() if not generator.uses_guidance]
    samplers = [sampler.method_part(sampler.settings_model()) for _, sampler in GUIDANCE.items()]
    return [REAL_ONLY, *generators, *(f"{source}-{part}" for source in _grid_prompt_sources() for part in samplers)]


def get_method(name: str) -> MethodChoice:
    """The method a grid calls ``name``; an unknown name is an error that lists the known ones."""
    found = find_method(name)
    if found is None:
        raise ValueError(
            f"unknown method {name!r}; choose one of {method_names()}, a λ method's settings spelled in its name "
            "(llm-fixed-0.3: λ = 0.3 for every image)"
        )
    return found
