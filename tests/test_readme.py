"""The README stays true: its set-up commands are what CI runs, and its config reference names every field."""

import re
from pathlib import Path

from pydantic import BaseModel

from dalda.config import DaldaConfig

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _setup_commands() -> list[str]:
    block = re.search(r"```bash\n(.*?)```", README, re.S)
    assert block and README.index(block.group(0)) < README.index("\n## "), "the README must start with its set-up block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_starts_with_exactly_two_setup_commands_and_ci_runs_the_second():
    install_and_run, tests = _setup_commands()
    assert "pip install" in install_and_run and "dalda run" in install_and_run
    config = re.search(r"--config (\S+)", install_and_run).group(1)
    assert (ROOT / config).is_file()
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert tests in ci_lines


def test_config_reference_lists_every_field():
    missing = []
    for name, field in DaldaConfig.model_fields.items():
        section = field.annotation
        if isinstance(section, type) and issubclass(section, BaseModel):
            missing += [f"{name}.{sub}" for sub in section.model_fields if f"`{name}.{sub}`" not in README]
        elif f"`{name}`" not in README:
            missing.append(name)
    assert not missing, f"README's configuration reference lacks {missing}"
