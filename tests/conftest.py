"""Shared fixtures: a config for the offline default (demo dataset, tiny random models) in a temp run dir, and
(from ``browser_support``) ``browser_page``, a headless Chromium page for the report tests."""

import pytest

from dalda.config import DaldaConfig
from dalda.configure import build_config

pytest_plugins = ["browser_support"]


@pytest.fixture
def tiny_config(tmp_path) -> DaldaConfig:
    """Demo dataset, tiny models, small M and the opt-in fast protocol (cached features; the default is authors),
    so every stage runs in seconds on a CPU."""
    return build_config(
        {
            "out_dir": str(tmp_path / "run"),
            "data": {"dataset": "demo", "root": str(tmp_path / "demo-data"), "shots": 2},
            "models": {"profile": "tiny"},
            "plan": {"images_per_real": 3},
            "prompts": {"num_prompts": 4},
            "train": {"protocol": "fast"},
        }
    )
