"""SDXL base 1.0 + IP-Adapter (``ip-adapter_sdxl_vit-h``), at 1024 px, with DALDA's per-image lambda.

Planning (prompts, lambda, seeds) is DALDA's (``IPAdapterGenerator``); the engine is the SD 1.x one on
SDXL's pipeline (``sdxl_engine``). Its defaults (:class:`~dalda.generators.settings.SDXLIPAdapterSettings`):
``stabilityai/stable-diffusion-xl-base-1.0`` with its own VAE (``generator.vae`` null;
``madebyollin/sdxl-vae-fp16-fix`` is the option for float16 decoding without the upcast), h94/IP-Adapter
``sdxl_models/ip-adapter_sdxl_vit-h.safetensors`` with the ViT-H encoder ``models/image_encoder`` (the one
SD 1.5's adapters use) and ``generator.resolution`` 1024, the size SDXL was trained at; its sampler is DALDA's.
Memory options: ``generation.vae_slicing``/``vae_tiling`` (decoding 1024 px latents is SDXL's memory peak),
``generation.attention_slicing`` and ``generation.cpu_offload``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dalda.config import DaldaConfig, ModelsConfig
from dalda.generators.ip_adapter import IPAdapterGenerator
from dalda.generators.settings import IPAdapterSettings, SDXLIPAdapterSettings, size_conditioning
from dalda.rundir import RunDir
from dalda.protocol import protocol_choices

if TYPE_CHECKING:
    from dalda.generators.sdxl_engine import SDXLGenerationEngine


class SDXLIPAdapterGenerator(IPAdapterGenerator):
    name = "sdxl-ip-adapter"
    title = "SDXL + IP-Adapter"
    settings_model: type[IPAdapterSettings] = SDXLIPAdapterSettings

    def manifest_settings(self, config: DaldaConfig) -> dict[str, Any]:
        """The SD settings plus SDXL's size/crop conditioning (as lists, the form a manifest line stores)."""
        conditioning = size_conditioning(self.settings(config).resolution)
        return {**super().manifest_settings(config), **{k: list(v) for k, v in conditioning.items()}}

    def load_pipeline(self, models: ModelsConfig, settings: IPAdapterSettings) -> Any:
        from dalda.models.sdxl import load_sdxl_ip_adapter_pipeline

        return load_sdxl_ip_adapter_pipeline(models, settings.checkpoints())

    def build(self, config: DaldaConfig, run: RunDir, models: ModelsConfig) -> SDXLGenerationEngine:
        from dalda.generators.sdxl_engine import SDXLGenerationEngine

        settings = self.settings(config)
        return SDXLGenerationEngine(self.load_pipeline(models, settings), settings, config.generation, protocol_choices(config.train.protocol).resample)
