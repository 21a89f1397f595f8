"""Installing: version ranges and extras in pyproject.toml, one-line errors naming a missing extra, --version."""

from __future__ import annotations

import re
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet
from typer.testing import CliRunner

from dalda.chat import OpenAISettings
from dalda.chat.openai import make_client
from dalda.cli import app
from dalda.extras import MissingExtraError, require

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser as a package
    tomllib = pytest.importorskip("tomli")

PROJECT = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~ ]", requirement, maxsplit=1)[0].lower()


def _requirement(requirements: list[str], name: str) -> SpecifierSet:
    for line in requirements:
        if line.split("[")[0].split(">")[0].split("<")[0].split("=")[0].strip() == name:
            return SpecifierSet(line[len(name):])
    raise AssertionError(f"{name} is not listed")


def test_torch_is_a_range_and_python_3_10_is_allowed():
    assert "2.14.1" in _requirement(PROJECT["dependencies"], "torch") and "2.3.0" not in _requirement(
        PROJECT["dependencies"], "torch"
    )
    assert "0.29.1" in _requirement(PROJECT["dependencies"], "torchvision")
    assert "3.10" in SpecifierSet(PROJECT["requires-python"])


def test_extras_hold_the_optional_packages_and_the_demo_needs_none():
    extras = PROJECT["optional-dependencies"]
    assert {"llm", "tracking", "cluster", "docs", "test"} <= set(extras)
    assert "hub" not in extras  # export and push need only core packages: an extra adding nothing means nothing
    core_names = {_name(line) for line in PROJECT["dependencies"]}
    for extra, packages in extras.items():  # an extra that adds nothing beyond the core install means nothing
        assert {_name(line) for line in packages} - core_names, f"the extra {extra!r} adds no package"
    core = " ".join(PROJECT["dependencies"])
    assert "openai" not in core  # only an LLM backend needs it
    assert "matplotlib" in core and "lpips" in core  # the demo's report and LPIPS need them
    assert "datasets>=3.4" in PROJECT["dependencies"]  # every generate writes synthetic/metadata.parquet with it
    test = " ".join(extras["test"])
    assert all(name in test for name in ("pytest", "import-linter", "openai"))


def test_the_tracking_extra_holds_every_tracker_backend_and_the_test_extra_installs_them():
    extras = PROJECT["optional-dependencies"]
    backends = {"tensorboard", "wandb", "mlflow-skinny", "sqlalchemy", "alembic"}  # MLflow's local store: the last two
    assert backends <= {_name(line) for line in extras["tracking"]}
    assert backends <= {_name(line) for line in extras["test"]}  # so CI runs the read-back tests of all three


def test_require_imports_a_present_module_and_names_the_extra_for_a_missing_one():
    assert require("json", "llm", "anything").dumps([]) == "[]"
    missing = r"^feature x needs the package 'dalda_absent_pkg'.*pip install 'dalda\[cluster\]'"
    with pytest.raises(MissingExtraError, match=missing):
        require("dalda_absent_pkg.sub", "cluster", "feature x")


def test_the_openai_backend_without_openai_says_to_install_the_llm_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "openai", None)  # as if it were not installed
    with pytest.raises(MissingExtraError, match=r"prompts.backend=openai needs the package 'openai'.*dalda\[llm\]"):
        make_client(OpenAISettings(), "sk-test")


def test_the_command_line_prints_a_missing_extra_as_one_line(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "openai", None)
    monkeypatch.setenv("DALDA_TEST_KEY", "sk-test")
    overrides = ["prompts.backend=openai", "prompts.source=llm", "prompts.api_key_env=DALDA_TEST_KEY"]
    args = ["prompts", "-o", str(tmp_path / "run")] + [part for item in overrides for part in ("-s", item)]
    assert CliRunner().invoke(app, ["data", "-o", str(tmp_path / "run")]).exit_code == 0
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "needs the package 'openai'" in result.output and "dalda[llm]" in result.output


def test_version_option_prints_the_installed_version():
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"dalda {version('dalda')}"


def test_python_m_dalda_is_the_command_line():
    import subprocess

    done = subprocess.run([sys.executable, "-m", "dalda", "--version"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == f"dalda {version('dalda')}"
