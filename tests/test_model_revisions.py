"""Pinned checkpoint revisions, keyed by checkpoint id, reach from_pretrained for Hub ids, never for local
folders, and the generator's pins land in the manifest."""

from dalda.config import ModelsConfig
from dalda.configure import build_config
from dalda.generators import GENERATORS
from dalda.models import hub


class _Recorder:
    calls: list = []

    @classmethod
    def from_pretrained(cls, source, **kwargs):
        cls.calls.append((source, kwargs))
        return cls()


def test_revision_is_passed_for_pinned_hub_ids_only(tmp_path):
    local = tmp_path / "sd"
    local.mkdir()
    cfg = ModelsConfig(revisions={"CompVis/stable-diffusion-v1-4": "abc123", str(local): "ignored"})
    _Recorder.calls = []
    hub.load(_Recorder, cfg, "CompVis/stable-diffusion-v1-4", "generator.sd_model", subfolder="unet")
    hub.load(_Recorder, cfg, "stabilityai/sd-vae-ft-mse", "generator.vae")
    hub.load(_Recorder, cfg, str(local), "generator.sd_model")
    (_, pinned), (_, unpinned), (_, folder) = _Recorder.calls
    assert pinned == {"local_files_only": False, "revision": "abc123", "subfolder": "unet"}
    assert "revision" not in unpinned and "revision" not in folder


def test_the_generators_own_pins_are_recorded_by_the_setting_that_names_each_checkpoint():
    config = build_config(
        {"models": {"revisions": {"stabilityai/sd-vae-ft-mse": "v1", "CompVis/stable-diffusion-v1-4": "s1",
                                  "openai/clip-vit-base-patch16": "c1"}}}  # fmt: skip
    )
    recorded = GENERATORS.get("ip-adapter").manifest_settings(config)["revisions"]
    assert recorded == {"sd_model": "s1", "vae": "v1"}  # CLIP's pin decides no generated pixel
    xl = build_config({"generator": {"name": "sdxl-ip-adapter"}, "models": config.models.model_dump()})
    assert GENERATORS.get("sdxl-ip-adapter").manifest_settings(xl)["revisions"] == {}
