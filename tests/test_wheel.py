"""The wheel carries what the demo and ``--dry-run`` need: built, installed into a fresh venv away from the
repository, and run from there (``python -m dalda`` included).

The venv sees this environment's packages (torch, diffusers, ...) through a ``.pth`` line, not its dalda: the wheel
is installed with ``--no-deps`` and ``PYTHONPATH`` is dropped, and the test checks which dalda answered.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, dict[str, str], Path]:
    """(the venv's bin folder, an environment without PYTHONPATH, an empty working folder outside the repo)."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    ignore = shutil.ignore_patterns(".git", "runs", "build", "*.egg-info", "__pycache__", "site", ".venv", "wheels")
    shutil.copytree(ROOT, source, symlinks=True, ignore=ignore)
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    wheels = work / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), "."],
         source, env)  # fmt: skip
    (wheel,) = wheels.glob("dalda-*.whl")
    target = work / "venv"
    venv.create(target, system_site_packages=True, with_pip=False, symlinks=True)
    bin_dir = target / "bin"
    purelib = Path(_run([str(bin_dir / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                        work, env).strip())  # fmt: skip
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (purelib / "environment.pth").write_text("\n".join(sorted(ours)) + "\n")
    _run([sys.executable, "-m", "pip", "--python", str(bin_dir / "python"), "install", "--no-deps", "--no-index", "-q",
          str(wheel)], work, env)  # fmt: skip
    shutil.rmtree(source)
    run_dir = work / "elsewhere"
    run_dir.mkdir()
    return bin_dir, env, run_dir


def test_the_installed_dalda_is_the_wheel_and_python_m_dalda_works(installed):
    bin_dir, env, cwd = installed
    where = _run([str(bin_dir / "python"), "-c", "import dalda; print(dalda.__file__)"], cwd, env)
    assert str(bin_dir.parent) in where and str(ROOT) not in where
    assert _run([str(bin_dir / "dalda"), "--version"], cwd, env).startswith("dalda ")
    assert _run([str(bin_dir / "python"), "-m", "dalda", "--version"], cwd, env).startswith("dalda ")


def test_the_wheel_ships_the_demo_config_the_grids_and_the_cost_table(installed):
    bin_dir, env, cwd = installed
    shown = _run([str(bin_dir / "dalda"), "show-config", "--config", "configs/demo.yaml"], cwd, env)
    assert "profile: tiny" in shown
    assert _run([str(bin_dir / "python"), "-m", "dalda", "show-config", "-c", "demo"], cwd, env) == shown
    dry = _run([str(bin_dir / "dalda"), "experiment", "configs/experiments/tab3.yaml", "--dry-run"], cwd, env)
    assert "GPU" in dry or "hours" in dry
    _run([str(bin_dir / "dalda"), "run", "--config", "configs/demo.yaml", "-o", "demo", "--stages", "data"], cwd, env)
    assert (cwd / "demo" / "split.json").is_file()
