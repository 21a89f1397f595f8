"""The README stays a true front door: two set-up commands that CI runs, at most about 200 lines, every command
in it exercised (here, or by the test or CI line named below), install lines that match pyproject.toml, and
links to a documentation site whose code-layout page names every package."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from dalda.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
CI = (ROOT / ".ci" / "run").read_text()

ELSEWHERE = {
    "pip install -e .": (".ci/run", "pip install -e '.[test]'"),
    "pip install -e '.[test]'": (".ci/run", "pip install -e '.[test]'"),
    "pip install -e '.[llm,tracking]'": ("tests/test_readme.py", "def test_every_extra_the_readme_names_exists"),
    "pip install 'torch": ("tests/test_readme.py", "def test_cpu_torch_line_states_pyprojects_ranges"),
    "dalda report ": ("tests/test_report_manifest.py", '"report"'),
    "dalda doctor ": ("tests/test_doctor.py", '"doctor"'),
    "accelerate launch ": ("tests/test_generation_stage.py", "accelerate launch"),
    "lint-imports": (".ci/run", "lint-imports"),
    "python -m pytest": (".ci/run", "python -m pytest -q"),
}
"""Commands a unit test cannot run as written (installs, a GPU launch, a long run): the file that exercises each,
and a line of it that shows so."""


def _setup_commands() -> list[str]:
    block = re.search(r"```bash\n(.*?)```", README, re.S)
    assert block and README.index(block.group(0)) < README.index("\n## "), "the README must start with its set-up block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def _readme_commands() -> list[str]:
    """Every command of every ```bash block, continuation lines joined, comments dropped."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", README, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            command = line.split("  #")[0].strip()
            if command and not command.startswith("#"):
                commands += [part.strip() for part in command.split(" && ")]
    return commands


def test_readme_starts_with_exactly_two_setup_commands_and_ci_runs_the_second():
    install_and_run, tests = _setup_commands()
    assert "pip install" in install_and_run and "dalda run" in install_and_run
    config = re.search(r"--config (\S+)", install_and_run).group(1)
    assert (ROOT / config).is_file()
    ci_lines = [line.strip() for line in CI.splitlines()]
    assert tests in ci_lines


def test_readme_is_a_front_door_not_a_manual():
    assert len(README.splitlines()) <= 200
    for heading in ("## A five-minute tour", "## Install", "## Running the real thing", "## Documentation"):
        assert heading in README
    assert "> **Status.**" in README
    assert "![" in README and (ROOT / "docs" / "report-demo.png").is_file()


def test_every_readme_command_is_run_here_or_exercised_elsewhere(tmp_path, monkeypatch):
    """`dalda` commands run through the CLI: `run` as `show-config` with the same options (the config it would
    run is resolved and validated), `experiment` with `--dry-run`; the others are named in ELSEWHERE."""
    monkeypatch.chdir(tmp_path)  # relative paths (configs/..., runs/...) as a user outside the repository sees them
    commands = _readme_commands()
    assert len(commands) >= 10
    for command in commands:
        words = shlex.split(command)
        if words[:3] == ["python", "-m", "dalda"]:
            words = ["dalda", *words[3:]]
        elsewhere = [key for key in ELSEWHERE if command.startswith(key)]
        if elsewhere:
            path, needle = ELSEWHERE[elsewhere[0]]
            assert needle in (ROOT / path).read_text(), f"{path} no longer exercises {command!r}"
            continue
        assert words[0] == "dalda", f"README command not exercised by any test: {command!r}"
        args = words[1:]
        if args[0] == "run":
            args = ["show-config", *args[1:]]
        elif args[0] == "experiment" and "--dry-run" not in args:
            args.append("--dry-run")
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, f"{command!r} -> {args}: {result.output}"


def test_cpu_torch_line_states_pyprojects_ranges():
    line = next(command for command in _readme_commands() if command.startswith("pip install 'torch"))
    assert "--index-url https://download.pytorch.org/whl/cpu" in line
    dependencies = (ROOT / "pyproject.toml").read_text()
    for requirement in re.findall(r"'(torch[^']*)'", line):
        assert f'"{requirement}"' in dependencies, f"{requirement} is not pyproject.toml's range"


def test_every_extra_the_readme_names_exists():
    pyproject = (ROOT / "pyproject.toml").read_text()
    extras = set(re.findall(r"(?m)^([a-z]+) = \[", pyproject.split("[project.optional-dependencies]")[1].split("\n[")[0]))
    named = {name for group in re.findall(r"\.\[([a-z,]+)\]", README) for name in group.split(",")}
    assert named and named <= extras, f"the README names extras pyproject.toml lacks: {named - extras}"


def test_readme_and_docs_links_point_at_files_that_exist():
    for target in re.findall(r"\]\((docs/[^)#]+)", README):
        assert (ROOT / target).is_file(), target


def test_every_docs_page_is_in_the_site_navigation():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    pages = {next(iter(entry.values())) for entry in config["nav"]}
    assert pages == {path.name for path in (ROOT / "docs").glob("*.md")}


def test_code_layout_names_every_package_and_module():
    layout = (ROOT / "docs" / "development.md").read_text().split("## Code layout", 1)[1]
    package = ROOT / "src" / "dalda"
    packages = [path for path in package.iterdir() if (path / "__init__.py").is_file() and not path.is_symlink()]
    names = [f"{path.name}/" for path in packages]
    names += [path.name for path in package.glob("*.py") if path.name != "__init__.py"]
    assert names and [name for name in names if f"`{name}" not in layout] == []


@pytest.mark.skipif(shutil.which("mkdocs") is None, reason="mkdocs is not installed (the docs and test extras)")
def test_the_documentation_site_builds_strictly(tmp_path):
    done = subprocess.run(
        ["mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "site" / "config-reference" / "index.html").is_file()
