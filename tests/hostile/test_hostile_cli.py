"""Issue 12, cases 11 and 12: overrides keep strings as typed, and every user-facing error is one line.

Runs the real CLI in-process (typer's runner) and ``python -m dalda.generation``'s ``main``.
"""

from __future__ import annotations

import os

import pytest
from typer.testing import CliRunner

from dalda import cli
from dalda.config import ConfigError
from dalda.configure import build_config
from dalda.generation.__main__ import main as generation_main

runner = CliRunner()


def _errors(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


def test_overrides_keep_strings_as_typed():
    config = build_config(overrides=[
        "prompts.backend=openai",  # whose settings api_version and model are
        "prompts.api_version=2024-06-01",  # the README's own example; YAML would make it a date
        "prompts.prefix=best quality, ",  # trailing space kept
        "prompts.model=0123456",  # a str field: not octal, not a number
        "data.shots=0012345",  # an int field: decimal, never octal
        "score.template={} in the wild",  # not valid YAML: taken as the string it is
        "prompts.base_template=a [photo of a {}",
        "data.max_eval_per_class=null",
        "train.classifiers=[resnet50, clip]",  # a list is still read as YAML
        "data.download=yes",
    ])
    assert config.prompts.api_version == "2024-06-01"
    assert config.prompts.prefix == "best quality, "
    assert config.prompts.model == "0123456"
    assert config.data.shots == 12345
    assert config.score.template == "{} in the wild"
    assert config.prompts.base_template == "a [photo of a {}"
    assert config.data.max_eval_per_class is None
    assert config.train.classifiers == ["resnet50", "clip"]
    assert config.data.download is True


@pytest.mark.parametrize(
    ("overrides", "names"),
    [(["seed=-5"], "seed: Input should be greater than or equal to 0"),
     (["generator.resolution=100"], "generator.resolution: Input should be a multiple of 8"),
     (["generator.name=da-fusion", "generator.ti_resolution=300"],
      "generator.ti_resolution: Input should be a multiple of 8")],
)
def test_numeric_constraints_are_checked_up_front_naming_the_field(overrides, names):
    with pytest.raises(ConfigError, match=names):
        build_config(overrides=overrides)


def test_empty_stages_is_an_error_not_every_stage(tmp_path):
    result = runner.invoke(cli.app, ["run", "-o", str(tmp_path / "run"), "--stages", ""])
    assert result.exit_code == 1
    assert _errors(result) == ["error: --stages '' names no stage; give e.g. --stages score,prompts,plan"]
    assert not (tmp_path / "run").exists()


def test_invalid_yaml_in_a_config_file_is_one_line_naming_file_and_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("data:\n  shots: 2\n  root: [unclosed\nseed: 1\n")
    result = runner.invoke(cli.app, ["data", "-c", str(path), "-o", str(tmp_path / "run")])
    assert result.exit_code == 1
    (line,) = _errors(result)
    assert line.startswith(f"error: config file {path} is not valid YAML") and "line 4" in line
    assert "Traceback" not in result.output + result.stderr


def test_markup_in_user_strings_is_printed_as_typed(tmp_path):
    missing = tmp_path / "[/bold]" / "[red]cfg.yaml"
    result = runner.invoke(cli.app, ["data", "-c", str(missing), "-o", str(tmp_path / "run")])
    assert result.exit_code == 1
    assert _errors(result) == [f"error: config file {missing} does not exist"]


def test_unexpected_errors_are_one_line_and_verbose_shows_the_traceback(tmp_path, monkeypatch):
    import dalda.pipeline

    def broken(config, stages, overrides=None):
        raise KeyError("surprise")

    monkeypatch.setattr(dalda.pipeline, "run_pipeline", broken)
    quiet = runner.invoke(cli.app, ["data", "-o", str(tmp_path / "run")])
    assert quiet.exit_code == 1
    assert _errors(quiet) == ["error: KeyError: 'surprise' (rerun with -v for the traceback)"]
    loud = runner.invoke(cli.app, ["data", "-o", str(tmp_path / "run"), "-v"])
    assert loud.exit_code == 1 and "Traceback" in loud.stderr


def test_report_on_an_empty_directory_is_one_line(tmp_path):
    result = runner.invoke(cli.app, ["report", str(tmp_path)])
    assert result.exit_code == 1
    (line,) = _errors(result)
    assert line.startswith(f"error: no run directory (a folder with config.yaml) under {tmp_path}")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_report_on_a_read_only_directory_is_one_line(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.yaml").write_text("seed: 0\n")
    tmp_path.chmod(0o555)
    try:
        result = runner.invoke(cli.app, ["report", str(tmp_path)])
    finally:
        tmp_path.chmod(0o755)
    assert result.exit_code == 1 and len(_errors(result)) == 1 and "Traceback" not in result.stderr


def test_python_m_dalda_generation_on_a_missing_folder_is_one_line(tmp_path, capsys):
    assert generation_main([str(tmp_path / "nonexistent")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {tmp_path / 'nonexistent'} is not a run directory (no config.yaml); pass one made by "
                   "`dalda run` or `dalda plan`"]


def test_report_that_cannot_write_is_one_line(tmp_path, monkeypatch):
    import dalda.report.stage

    def read_only(root):
        raise PermissionError(13, "Permission denied", str(root / "report"))

    monkeypatch.setattr(dalda.report.stage, "build_report", read_only)
    result = runner.invoke(cli.app, ["report", str(tmp_path)])
    assert result.exit_code == 1
    assert _errors(result) == [f"error: [Errno 13] Permission denied: '{tmp_path / 'report'}'"]
