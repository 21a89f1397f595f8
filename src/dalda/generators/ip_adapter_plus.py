"""IP-Adapter Plus on SD 1.5: the reference image enters as patch tokens, not one pooled embedding.

``ip-adapter-plus_sd15`` feeds the image encoder's penultimate hidden states (257 tokens for ViT-H/14 at
224 px) through a Perceiver resampler into 16 context tokens, where the plain IP-Adapter projects one pooled
embedding into 4; the generated images follow the reference's layout and detail more closely. Planning,
lambda per image, prompts, seeds and the engine are DALDA's (``IPAdapterGenerator``, ``GenerationEngine``):
only the loaded adapter and so the image tokens differ. Its defaults are the checkpoints the adapter was
released for: SD 1.5 (``stable-diffusion-v1-5/stable-diffusion-v1-5``) and h94/IP-Adapter
``models/ip-adapter-plus_sd15.safetensors`` with the ViT-H encoder ``models/image_encoder``.
"""

from __future__ import annotations

from typing import Any

from dalda.config import DaldaConfig, ModelsConfig
from dalda.generators.ip_adapter import IPAdapterGenerator
from dalda.generators.ip_adapter_engine import GenerationEngine
from dalda.generators.sd_checkpoints import sd_checkpoints
from dalda.models.sd import load_sd_ip_adapter_plus_pipeline
from dalda.rundir import RunDir


class IPAdapterPlusGenerator(IPAdapterGenerator):
    name = "ip-adapter-plus"
    title = "SD 1.5 + IP-Adapter Plus"
    config_defaults: dict[str, Any] = {
        "models.sd_model": "stable-diffusion-v1-5/stable-diffusion-v1-5",
        "models.ip_adapter_weight": "ip-adapter-plus_sd15.safetensors",
    }

    def build(self, config: DaldaConfig, run: RunDir, models: ModelsConfig) -> GenerationEngine:
        return GenerationEngine(load_sd_ip_adapter_plus_pipeline(models, sd_checkpoints(models)), self.sampling(config))
