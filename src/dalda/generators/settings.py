"""The Stable Diffusion settings that decide an image's pixels besides its row (each manifest line records them).

Batch size, dtype, device and speed options are left out: an image depends on them only within the tolerance
documented in ``dalda.generation`` (they change rounding, not content). Every built-in generator records these
same keys (the IP-Adapter ones too). The sampling settings are the ones the generator hands its engine
(:meth:`Generator.sampling`): the img2img baselines swap in ``generator.scheduler`` / ``generator.steps``, and
every generator resolves an unset ``generation.negative_prompt`` to its own default (``docs/protocol.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

from dalda.config import DaldaConfig, GenerationConfig


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
    negative_prompt: str

    @classmethod
    def from_config(cls, config: DaldaConfig, sampling: GenerationConfig | None = None) -> GenerationSettings:
        """The settings of ``config``, with ``sampling`` (the generator's resolved sampling settings) in place of
        ``config.generation`` when given."""
        models, generation = config.models, sampling or config.generation
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
            negative_prompt=generation.negative_prompt or "",
        )
