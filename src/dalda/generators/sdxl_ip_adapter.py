"""SDXL base 1.0 + IP-Adapter (``ip-adapter_sdxl_vit-h``), at 1024 px, with DALDA's per-image lambda.

Planning (prompts, lambda, seeds) is DALDA's (``IPAdapterGenerator``); the engine is the SD 1.x one on
SDXL's pipeline (``sdxl_engine``). Its defaults, applied by ``dalda.configure`` to the fields a config leaves
unset: ``stabilityai/stable-diffusion-xl-base-1.0`` with its own VAE (``models.vae`` null;
``madebyollin/sdxl-vae-fp16-fix`` is the option for float16 decoding without the upcast), h94/IP-Adapter
``sdxl_models/ip-adapter_sdxl_vit-h.safetensors`` with the ViT-H encoder ``models/image_encoder`` (the one
SD 1.5's adapters use) and ``generation.resolution`` 1024, the size SDXL was trained at. Memory options:
``generation.vae_slicing``/``vae_tiling`` (decoding 1024 px latents is SDXL's memory peak),
``generation.attention_slicing`` and ``generation.cpu_offload``.
"""

from __future__ import annotations

from typing import Any

from dalda.config import DaldaConfig, ModelsConfig
from dalda.generators.ip_adapter import IPAdapterGenerator
from dalda.generators.sd_checkpoints import sd_checkpoints
from dalda.generators.sdxl_engine import SDXLGenerationEngine, size_conditioning
from dalda.models.sdxl import load_sdxl_ip_adapter_pipeline
from dalda.rundir import RunDir


class SDXLIPAdapterGenerator(IPAdapterGenerator):
    name = "sdxl-ip-adapter"
    title = "SDXL + IP-Adapter"
    config_defaults: dict[str, Any] = {
        "models.sd_model": "stabilityai/stable-diffusion-xl-base-1.0",
        "models.vae": None,
        "models.ip_adapter_subfolder": "sdxl_models",
        "models.ip_adapter_weight": "ip-adapter_sdxl_vit-h.safetensors",
        "generation.resolution": 1024,
    }

    def manifest_settings(self, config: DaldaConfig) -> dict[str, Any]:
        """The SD settings plus SDXL's size/crop conditioning (as lists, the form a manifest line stores)."""
        conditioning = size_conditioning(self.sampling(config).resolution)
        return {**super().manifest_settings(config), **{k: list(v) for k, v in conditioning.items()}}

    def build(self, config: DaldaConfig, run: RunDir, models: ModelsConfig) -> SDXLGenerationEngine:
        pipe = load_sdxl_ip_adapter_pipeline(models, sd_checkpoints(models))
        return SDXLGenerationEngine(pipe, self.sampling(config))
