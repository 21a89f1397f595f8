"""Building a config: the schema parse of ``dalda.config`` plus the checks that need the registries.

``dalda.config`` sits at the bottom of the package and knows no registry, so a field that names an extension
entry (``data.dataset``, ``generator.name``, ...) is a plain string there. This module checks each such field against
its registry, with an error naming the field and the choices, applies the rules an entry carries (a dataset
that needs ``data.root``; a scorer's default ``guidance.alpha``; a generator's own checkpoints and resolution),
and is what the CLI, the grid runner and the tests build configs with.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dalda.config import ConfigError, DaldaConfig, parse_config, read_config_file
from dalda.chat import CHAT_BACKENDS
from dalda.datasets import DATASETS
from dalda.generators import GENERATORS
from dalda.metrics import FIDELITY_FEATURES
from dalda.probes import PROBES
from dalda.registry import Registry, UnknownEntryError
from dalda.scorers import SCORERS

REGISTRY_FIELDS: tuple[tuple[str, Registry[Any]], ...] = (
    ("data.dataset", DATASETS),
    ("score.variant", SCORERS),
    ("filter.scorer", SCORERS),
    ("generator.name", GENERATORS),
    ("prompts.backend", CHAT_BACKENDS),
    ("train.classifiers", PROBES),
    ("evaluate.fidelity_features", FIDELITY_FEATURES),
)
"""Each config field that names a registry entry, and that registry: one line per extension axis."""


def _field(config: DaldaConfig, path: str) -> Any:
    value: Any = config
    for part in path.split("."):
        value = getattr(value, part)
    return value


def _problems(config: DaldaConfig) -> list[str]:
    """Unknown registry names, then the rules of the chosen entries; empty when the config is valid."""
    problems = []
    for path, registry in REGISTRY_FIELDS:
        value = _field(config, path)
        for name in value if isinstance(value, list) else [value]:
            try:
                registry.get(name)
            except UnknownEntryError as error:
                problems.append(str(error))
    if not problems and DATASETS.get(config.data.dataset).needs_root and config.data.root is None:
        problems.append(
            f"data.dataset={config.data.dataset} needs data.root pointing to the folder that holds the dataset"
        )
    if config.guidance.alpha_quantile is not None and "alpha" in config.guidance.model_fields_set:
        problems.append(
            "guidance.alpha and guidance.alpha_quantile are both set; keep one (the quantile replaces the fixed alpha)"
        )
    return problems


def build_config(values: dict[str, Any] | None = None, overrides: list[str] | None = None) -> DaldaConfig:
    """Validate a nested dict of values plus ``section.field=value`` overrides into a checked config.

    An unset ``guidance.alpha`` becomes the chosen scorer's ``default_alpha``; each field named in the chosen
    generator's ``config_defaults`` (e.g. SDXL's checkpoints and ``generation.resolution`` 1024) takes that
    value unless the config sets it. The resolved values are what a run directory's ``config.yaml`` records.
    """
    config = parse_config(values, overrides)
    problems = _problems(config)
    if problems:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems))
    if "alpha" not in config.guidance.model_fields_set:
        config.guidance.alpha = SCORERS.get(config.score.variant).default_alpha
    _apply_generator_defaults(config)
    return config


def _apply_generator_defaults(config: DaldaConfig) -> None:
    """Fill the fields the config leaves unset with the generator's ``config_defaults`` (``section.field``)."""
    defaults = getattr(GENERATORS.get(config.generator.name), "config_defaults", None) or {}
    for path, value in defaults.items():
        section_name, field = path.split(".")
        section = getattr(config, section_name)
        if field not in section.model_fields_set:
            setattr(section, field, value)


def load_config(path: Path | None = None, overrides: list[str] | None = None) -> DaldaConfig:
    """Read a YAML config file (optional), apply overrides, validate and check."""
    return build_config(read_config_file(path), overrides)
