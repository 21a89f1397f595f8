"""The Stable Diffusion settings that decide an image's pixels besides its row (each manifest line records them).

Batch size, dtype, device and speed options are left out: an image depends on them only within the tolerance
documented in ``dalda.generation`` (they change rounding, not content). Every built-in generator records these
same keys (the IP-Adapter ones too, so manifests written before generators had their own settings stay valid).
"""

from __future__ import annotations

from dataclasses import dataclass

from dalda.config import DaldaConfig


@dataclass(frozen=True)
class GenerationSettings:
    models_profile: str
    sd_model: str
    vae: str | None
    ip_adapter: str
    image_encoder: str
    scheduler: str
    steps: int
    guidance_scale: float
    resolution: int
    resize_to_source: bool
    revisions: dict[str, str]

    @classmethod
    def from_config(cls, config: DaldaConfig) -> GenerationSettings:
        models, generation = config.models, config.generation
        repo = models.ip_adapter_repo
        return cls(
            models_profile=models.profile,
            sd_model=models.sd_model,
            vae=models.vae,
            ip_adapter=f"{repo}/{models.ip_adapter_subfolder}/{models.ip_adapter_weight}",
            image_encoder=f"{repo}/{models.image_encoder_subfolder}",
            scheduler=generation.scheduler,
            steps=generation.steps,
            guidance_scale=generation.guidance_scale,
            resolution=generation.resolution,
            resize_to_source=generation.resize_to_source,
            revisions=dict(sorted(models.revisions.items())),
        )
