"""Pinned checkpoint revisions reach from_pretrained for Hub ids, never for local folders, and land in the manifest."""

import pytest

from dalda.config import ConfigError, ModelsConfig
from dalda.configure import build_config
from dalda.generators.settings import GenerationSettings
from dalda.models import hub


class _Recorder:
    calls: list = []

    @classmethod
    def from_pretrained(cls, source, **kwargs):
        cls.calls.append((source, kwargs))
        return cls()


def test_revision_is_passed_for_hub_ids_only(tmp_path):
    cfg = ModelsConfig(revisions={"sd_model": "abc123"})
    _Recorder.calls = []
    hub.load(_Recorder, cfg, "CompVis/stable-diffusion-v1-4", "models.sd_model", subfolder="unet")
    hub.load(_Recorder, cfg, "stabilityai/sd-vae-ft-mse", "models.vae")
    local = tmp_path / "sd"
    local.mkdir()
    hub.load(_Recorder, cfg.model_copy(update={"sd_model": str(local)}), str(local), "models.sd_model")
    (_, pinned), (_, unpinned), (_, folder) = _Recorder.calls
    assert pinned == {"local_files_only": False, "revision": "abc123", "subfolder": "unet"}
    assert "revision" not in unpinned and "revision" not in folder


def test_revisions_are_validated_and_recorded():
    with pytest.raises(ConfigError, match="models.revisions"):
        build_config(overrides=["models.revisions={unet: abc}"])
    config = build_config(overrides=["models.revisions={vae: v1, sd_model: s1}"])
    assert GenerationSettings.from_config(config).revisions == {"sd_model": "s1", "vae": "v1"}
