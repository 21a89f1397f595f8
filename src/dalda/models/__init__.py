"""Every model dalda uses, built in one place: one module per model family, each with its real loader and the
shapes of its random-weight profiles (``models.profile``: ``real``, ``tiny`` or ``full-random``).

Families: ``sd`` (Stable Diffusion 1.x and its pipelines), ``sdxl``, ``ip_adapter`` (shared by both), ``clip``,
``siglip``, ``blip_vqa``, ``dino``, ``resnet50``, ``lpips``, ``inception``, ``llm``. Shared helpers: ``device``
(device, dtype, freezing), ``hub`` (checkpoint loading with clear errors), ``checkpoints`` (the SD checkpoint
ids a caller passes), ``random_profiles`` (shapes and seeds of random builds), ``tokenizer`` (offline
tokenizers), ``schedulers``, ``unet_sharing``, ``imagenet``. Loaders take the checkpoint ids they load from
their caller; of the ``models`` config section they read only what every model shares (profile, device,
dtype, offline, revisions, and ``clip_model`` for the one CLIP all stages use).
"""

from dalda.models.checkpoints import IPAdapterCheckpoints, SDCheckpoints
from dalda.models.clip import ClipBundle, load_clip
from dalda.models.device import resolve_device, resolve_dtype
from dalda.models.hub import ModelLoadError
from dalda.models.lpips import load_lpips
from dalda.models.resnet50 import Backbone, load_resnet50_backbone
from dalda.models.sd import (
    img2img_pipeline_from,
    load_img2img_pipeline,
    load_sd_ip_adapter_pipeline,
    load_sd_ip_adapter_plus_pipeline,
)
from dalda.models.sdxl import load_sdxl_ip_adapter_pipeline

__all__ = [
    "Backbone",
    "ClipBundle",
    "IPAdapterCheckpoints",
    "ModelLoadError",
    "SDCheckpoints",
    "img2img_pipeline_from",
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
