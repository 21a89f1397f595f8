"""The import contracts in pyproject.toml hold, and they catch the cycles they exist for: a copy of the package
with one injected import must fail `lint-imports`, naming the broken contract."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _lint(tmp_path: Path, inject: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` on a copy of ``src/dalda`` where each named module gets one more line at its top."""
    copy = tmp_path / "src"
    shutil.copytree(ROOT / "src" / "dalda", copy / "dalda", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for module, line in inject.items():
        path = copy / "dalda" / module
        source = path.read_text()
        future = "from __future__ import annotations\n"
        if future in source:  # the injected import goes after the future import, which must come first
            source = source.replace(future, future + line + "\n", 1)
        else:
            source = line + "\n" + source
        path.write_text(source)
    env = {**os.environ, "PYTHONPATH": str(copy)}
    lint = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    return subprocess.run([lint, "--no-cache"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


def test_the_contracts_hold_on_the_package_as_it_is(tmp_path):
    result = _lint(tmp_path, {})
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("inject", "contract"),
    [
        # two base modules that may import each other one way: a cycle between them is caught
        ({"settings.py": "import dalda.registry"}, "No cycles between sibling packages or modules"),
        # the base must never import the model kit above it
        ({"config.py": "import dalda.models.device"}, "Layers:"),
        # a cycle inside one package
        ({"guidance/spec.py": "import dalda.guidance.ags"}, "No cycles between sibling packages or modules"),
    ],
)
def test_an_injected_cycle_breaks_a_contract(tmp_path, inject, contract):
    result = _lint(tmp_path, inject)
    assert result.returncode != 0
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken, result.stdout
