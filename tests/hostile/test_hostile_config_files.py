"""Issue 21, item 9: a config file is typed like the overrides. Where the schema wants a string, a value YAML
would read as a date or a number stays the text the user wrote; a key given twice is refused with its line."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from dalda import cli
from dalda.config import ConfigError
from dalda.configure import build_config, load_config

FILE_AND_OVERRIDE = [
    ("prompts.api_version", "2024-06-01", "2024-06-01"),  # the README's own example: a date to YAML
    ("prompts.model", "0123456", "0123456"),  # an octal-looking number to YAML 1.1
    ("prompts.model", "1e3", "1e3"),
    ("prompts.model", "yes", "yes"),  # a boolean to YAML 1.1
    ("prompts.model", "12:30:00", "12:30:00"),  # sexagesimal 45000 to YAML 1.1
    ("prompts.base_url", "0x1F", "0x1F"),
    ("data.shots", "0012345", 12345),  # an int field: decimal, never octal
    ("prompts.temperature", "0.7", 0.7),
    ("prompts.regenerate", "yes", True),
    ("models.revisions", "{CompVis/stable-diffusion-v1-4: 0123456}", {"CompVis/stable-diffusion-v1-4": "0123456"}),
]


def _nested(path: str, text: str) -> str:
    section, field = path.split(".")
    return f"prompts:\n  backend: openai\n{section}:\n  {field}: {text}\n" if section != "prompts" else (
        f"prompts:\n  backend: openai\n  {field}: {text}\n")


def _value(config, path: str):
    section, field = path.split(".")
    part = getattr(config, section)
    return getattr(part, field) if field in type(part).model_fields else part.entry_values()[field]


@pytest.mark.parametrize(("path", "text", "expected"), FILE_AND_OVERRIDE)
def test_a_config_file_reads_a_value_as_the_same_override_does(tmp_path, path, text, expected):
    file = tmp_path / "config.yaml"
    file.write_text(_nested(path, text))
    from_file = load_config(file, announce=False)
    from_override = build_config(overrides=["prompts.backend=openai", f"{path}={text}"], announce=False)
    assert _value(from_file, path) == _value(from_override, path) == expected


def test_quoted_values_and_lists_are_read_as_yaml_reads_them(tmp_path):
    file = tmp_path / "config.yaml"
    file.write_text("prompts:\n  prefix: 'best quality, '\ntrain:\n  classifiers: [resnet50, clip]\n"
                    "data:\n  max_eval_per_class: null\n")
    config = load_config(file, announce=False)
    assert config.prompts.prefix == "best quality, "
    assert config.train.classifiers == ["resnet50", "clip"] and config.data.max_eval_per_class is None


@pytest.mark.parametrize(("text", "line", "first"), [
    ("seed: 1\nseed: 2\n", 2, 1),
    ("data:\n  shots: 2\n  trial: 0\n  shots: 3\n", 4, 2),
    ("train:\n  probes:\n    clip: {lr: 0.1, lr: 0.2}\n", 3, 3),
    ("data:\n  shots: 1\nprompts: {}\ndata:\n  trial: 1\n", 4, 1),
])
def test_a_key_given_twice_is_refused_with_its_line(tmp_path, text, line, first):
    file = tmp_path / "config.yaml"
    file.write_text(text)
    with pytest.raises(ConfigError, match=rf"{file}: line {line}: key .* is given twice \(first on line {first}\)"):
        load_config(file)


def test_the_cli_names_the_duplicate_key_in_one_line(tmp_path):
    file = tmp_path / "config.yaml"
    file.write_text("seed: 1\nout_dir: x\nseed: 2\n")
    result = CliRunner().invoke(cli.app, ["run", "-c", str(file), "-o", str(tmp_path / "run")])
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code == 1 and len(lines) == 1 and "line 3: key 'seed' is given twice" in lines[0]
