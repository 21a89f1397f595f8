"""Issue 25, item 1: every number of the config, and of every registered entry's settings, is checked for what it
means: finite, inside a declared range, sizes past one GPU refused unless ``models.allow_oversize=true``.

The fields are discovered from the schema and the registries, so a field added later is walked too.
"""

from __future__ import annotations

import math
import types
import typing
from dataclasses import dataclass

import annotated_types
import pytest
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from typer.testing import CliRunner

from dalda import cli
from dalda.config import ConfigError, DaldaConfig
from dalda.configure import CHOICES, TABLES, build_config

HOSTILE = ["nan", "inf", "-inf", "0", "-1", "1e30", "123456789012345678901234567890"]


@dataclass(frozen=True)
class NumericField:
    path: str  # the dotted path an override sets, e.g. generator.steps
    info: FieldInfo
    setup: tuple[str, ...]  # overrides that choose the entry owning the field


def _numeric(info: FieldInfo) -> bool:
    annotation = info.annotation
    kinds = typing.get_args(annotation) if typing.get_origin(annotation) in (typing.Union, types.UnionType) else (
        annotation,)
    return any(kind in (int, float) for kind in kinds)


def _walk(model: type[BaseModel], prefix: str, setup: tuple[str, ...]) -> list[NumericField]:
    found = []
    for name, info in model.model_fields.items():
        if isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel):
            found += _walk(info.annotation, f"{prefix}{name}.", setup)
        elif _numeric(info):
            found.append(NumericField(f"{prefix}{name}", info, setup))
    return found


def numeric_fields() -> list[NumericField]:
    """Every numeric field a config can set: the central ones, each choice's entries', each table's entries'."""
    fields = _walk(DaldaConfig, "", ())
    for choice in CHOICES:
        for name in choice.registry:
            setup = (f"{choice.section}.{choice.key}={name}",)
            fields += _walk(choice.registry.settings_model(name), f"{choice.section}.", setup)
    for table in TABLES:
        for name in table.registry:
            setup = (f"{table.chosen_by}=[{name}]",) if table.chosen_by else ()
            fields += _walk(table.registry.settings_model(name), f"{table.path}.{name}.", setup)
    return fields


FIELDS = numeric_fields()


def _bounds(info: FieldInfo) -> tuple[float, float]:
    low, high = -math.inf, math.inf
    for rule in info.metadata:
        if isinstance(rule, annotated_types.Ge | annotated_types.Gt):
            low = float(getattr(rule, "ge", getattr(rule, "gt", None)))
        if isinstance(rule, annotated_types.Le | annotated_types.Lt):
            high = float(getattr(rule, "le", getattr(rule, "lt", None)))
    return low, high


def _value(config: DaldaConfig, path: str) -> object:
    node: object = config.model_dump()  # entries' settings sit in their sections' dumps
    for part in path.split("."):
        node = node[part]
    return node


def test_the_walk_finds_central_entry_and_table_fields():
    paths = {field.path for field in FIELDS}
    assert {"train.image_size", "generator.guidance_scale", "guidance.fixed_scale", "train.probes.resnet50.lr",
            "evaluate.metrics.lpips.size", "prompts.timeout_s"} <= paths


@pytest.mark.parametrize("field", FIELDS, ids=lambda field: field.path)
def test_every_numeric_field_declares_a_finite_range(field):
    low, high = _bounds(field.info)
    assert math.isfinite(low) and math.isfinite(high), f"{field.path} must declare ge/gt and le/lt"


@pytest.mark.parametrize("raw", HOSTILE)
@pytest.mark.parametrize("field", FIELDS, ids=lambda field: field.path)
def test_a_hostile_number_is_a_one_line_error_naming_the_field_or_a_valid_value(field, raw):
    try:
        config = build_config(overrides=[*field.setup, f"{field.path}={raw}"], announce=False)
    except ConfigError as error:
        message = str(error)
        assert "\n" not in message
        assert field.path in message, message
        if "inf" in raw or "nan" in raw:  # refused by the field itself, which names its range
            assert "allowed:" in message, message
        return
    value = _value(config, field.path)
    low, high = _bounds(field.info)
    assert isinstance(value, int | float) and math.isfinite(value), (field.path, raw, value)
    assert low <= value <= high


def test_sizes_past_one_gpu_need_the_explicit_override():
    with pytest.raises(ConfigError, match=r"generator\.resolution=4096 .*models\.allow_oversize=true") as error:
        build_config(overrides=["generator.resolution=4096"])
    assert "\n" not in str(error.value)
    with pytest.raises(ConfigError, match=r"train\.image_size: .*100000"):
        build_config(overrides=["train.image_size=100000"])
    config = build_config(overrides=["generator.resolution=4096", "models.allow_oversize=true"])
    assert config.generator.entry_values()["resolution"] == 4096
    with pytest.raises(ConfigError, match=r"generator\.resolution.*allowed: a whole number, 8 to 16384 px"):
        build_config(overrides=["generator.resolution=65536", "models.allow_oversize=true"])


@pytest.mark.parametrize("override", ["guidance.strategy=fixed guidance.fixed_scale=inf",
                                      "generator.guidance_scale=inf", "train.probes.resnet50.lr=inf"])
def test_the_cli_error_is_one_line_naming_the_dotted_field(override, tmp_path):
    args = [arg for part in override.split() for arg in ("-s", part)]
    result = CliRunner().invoke(cli.app, ["run", "-o", str(tmp_path / "run"), *args])
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code == 1 and len(lines) == 1, result.stderr
    assert override.split()[-1].split("=")[0] in lines[0] and "finite" in lines[0]
    assert not (tmp_path / "run").exists()
