"""IP-Adapter Plus on SD 1.5: the reference image enters as patch tokens, not one pooled embedding.

``ip-adapter-plus_sd15`` feeds the image encoder's penultimate hidden states (257 tokens for ViT-H/14 at
224 px) through a Perceiver resampler into 16 context tokens, where the plain IP-Adapter projects one pooled
embedding into 4; the generated images follow the reference's layout and detail more closely. Planning,
lambda per image, prompts, seeds and the engine are DALDA's (``IPAdapterGenerator``, ``GenerationEngine``):
only the loaded adapter and so the image tokens differ. Its defaults (:class:`IPAdapterPlusSettings`) are the
checkpoints the adapter was released for: SD 1.5 (``stable-diffusion-v1-5/stable-diffusion-v1-5``) and
h94/IP-Adapter ``models/ip-adapter-plus_sd15.safetensors`` with the ViT-H encoder ``models/image_encoder``;
its sampler is DALDA's.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from dalda.config import ModelsConfig
from dalda.generators.ip_adapter import IPAdapterGenerator
from dalda.generators.settings import IPAdapterSettings


class IPAdapterPlusSettings(IPAdapterSettings):
    """DALDA's settings with the checkpoints IP-Adapter Plus was released for."""

    sd_model: str = Field(
        "stable-diffusion-v1-5/stable-diffusion-v1-5",
        description="Stable Diffusion checkpoint: Hub id or local folder (SD 1.5, the adapter's base).",
    )
    ip_adapter_weight: str = Field(
        "ip-adapter-plus_sd15.safetensors", description="IP-Adapter weight file name (a \"plus\" one)."
    )


class IPAdapterPlusGenerator(IPAdapterGenerator):
    name = "ip-adapter-plus"
    title = "SD 1.5 + IP-Adapter Plus"
    settings_model: type[IPAdapterSettings] = IPAdapterPlusSettings

    def load_pipeline(self, models: ModelsConfig, settings: IPAdapterSettings) -> Any:
        from dalda.models.sd import load_sd_ip_adapter_plus_pipeline

        return load_sd_ip_adapter_plus_pipeline(models, settings.checkpoints())
