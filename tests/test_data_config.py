"""The data section of the config: bad values fail before any work, naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from dalda.config import ConfigError
from dalda.configure import build_config
from dalda.datasets import DATASETS


def test_registry_lists_the_supported_datasets() -> None:
    assert set(DATASETS) == {"demo", "pets", "caltech101", "flowers102", "imagefolder"}


@pytest.mark.parametrize("shots", [0, -3])
def test_shots_below_one_fails_naming_the_field(shots: int) -> None:
    with pytest.raises(ConfigError, match=r"data\.shots"):
        build_config(overrides=[f"data.shots={shots}"])


def test_unknown_dataset_fails_naming_the_field_and_the_choices() -> None:
    with pytest.raises(ConfigError, match=r"data\.dataset='cifar'.*caltech101.*demo.*flowers102") as caught:
        build_config(overrides=["data.dataset=cifar"])
    assert "imagefolder" in str(caught.value) and "pets" in str(caught.value)


def test_unknown_eval_split_fails_naming_the_field() -> None:
    with pytest.raises(ConfigError, match=r"data\.eval_split"):
        build_config(overrides=["data.eval_split=val"])


def test_imagefolder_without_root_fails() -> None:
    with pytest.raises(ConfigError, match=r"data\.root"):
        build_config(overrides=["data.dataset=imagefolder"])


def test_root_with_home_is_expanded() -> None:
    config = build_config(overrides=["data.dataset=pets", "data.root=~/datasets"])
    assert config.data.root == Path.home() / "datasets"
