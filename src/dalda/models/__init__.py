"""Every model dalda uses, built in one place (see ``loaders``): real checkpoints, tiny or full-size random ones."""

from dalda.models.hub import ModelLoadError
from dalda.models.loaders import (
    Backbone,
    ClipBundle,
    load_clip,
    load_img2img_pipeline,
    load_lpips,
    load_resnet50_backbone,
    load_sd_ip_adapter_pipeline,
    load_sd_ip_adapter_plus_pipeline,
    load_sdxl_ip_adapter_pipeline,
    resolve_device,
    resolve_dtype,
)

__all__ = [
    "Backbone",
    "ClipBundle",
    "ModelLoadError",
    "load_clip",
    "load_img2img_pipeline",
    "load_lpips",
    "load_resnet50_backbone",
    "load_sd_ip_adapter_pipeline",
    "load_sd_ip_adapter_plus_pipeline",
    "load_sdxl_ip_adapter_pipeline",
    "resolve_device",
    "resolve_dtype",
]
