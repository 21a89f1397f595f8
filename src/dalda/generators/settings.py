"""The settings the Stable Diffusion generators share, as entry settings (``dalda.settings``) with their defaults.

Each built-in generator declares one of these models (or its own subclass) as its ``settings_model``, so its
checkpoints and its sampler sit beside ``generator.name`` in the config (``generator: {name: da-fusion, steps:
50}``) and every generator has its own defaults:

- :class:`StableDiffusionSettings`: the SD checkpoint, its VAE and how it is sampled (DALDA's values: SD v1.4,
  ``sd-vae-ft-mse``, DDIM 30 steps, guidance 7.5, 512 px);
- :class:`IPAdapterSettings`: plus the IP-Adapter and its image encoder, and IP-Adapter's own negative prompt;
- :class:`Img2ImgSettings`: the img2img baselines' sampler, as the DA-Fusion code base runs it (PNDM, 50 steps,
  no negative prompt);
- :class:`TextualInversionSettings`: plus DA-Fusion's textual inversion.

``docs/protocol.md`` says where each default comes from. What a manifest line records
(:func:`sd_manifest_settings`) and what the report's provenance header shows are these resolved settings of the
generator that ran.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from dalda.config import DaldaConfig
from dalda.settings import EntrySettings, sized

if TYPE_CHECKING:
    from dalda.models.checkpoints import IPAdapterCheckpoints, SDCheckpoints

Scheduler = Literal["ddim", "dpm-solver++", "euler", "pndm"]
"""The samplers ``dalda.models.schedulers`` builds."""

IP_ADAPTER_NEGATIVE_PROMPT = "monochrome, lowres, bad anatomy, worst quality, low quality"
"""The default negative prompt of IP-Adapter's own ``generate``, which made every image of the paper's authors."""

TI_SETTINGS = ("ti_steps", "ti_batch_size", "ti_learning_rate", "ti_scale_lr", "ti_resolution", "ti_init_word")
"""The textual-inversion settings a learned class token depends on (gradient checkpointing changes only
rounding)."""

SECTION = "generator"
"""The config section that holds the chosen generator's settings (error messages name ``generator.<setting>``)."""


class StableDiffusionSettings(EntrySettings):
    """A Stable Diffusion checkpoint and how it is sampled."""

    sd_model: str = Field(
        "CompVis/stable-diffusion-v1-4", description="Stable Diffusion checkpoint: Hub id or local folder (SD v1.4)."
    )
    vae: str | None = Field(
        "stabilityai/sd-vae-ft-mse", description="VAE id or folder that replaces the model's own; null: its own."
    )
    scheduler: Scheduler = Field(
        "ddim", description="Sampler: ddim, dpm-solver++ (similar images in fewer steps, e.g. 20), euler, pndm."
    )
    steps: int = Field(30, ge=1, le=1000, description="Denoising steps (at most the 1000 training timesteps).")
    guidance_scale: float = Field(
        7.5, ge=0.0, le=100.0, description="Classifier-free guidance scale (paper: 7.5; 0 and 1: none)."
    )
    resolution: int = Field(
        512,
        ge=8,
        le=16_384,
        multiple_of=8,
        json_schema_extra=sized("px", 2048),
        description="Generation size in pixels (square), a multiple of 8 (past 2048: models.allow_oversize).",
    )
    negative_prompt: str = Field("", description="Negative prompt of every image; empty: none.")

    def checkpoints(self) -> SDCheckpoints:
        """The checkpoint ids for the loaders of ``dalda.models``, which name ``generator.*`` in their errors."""
        from dalda.models.checkpoints import SDCheckpoints

        return SDCheckpoints(sd_model=self.sd_model, vae=self.vae, section=SECTION)

    def checkpoint_ids(self) -> dict[str, str]:
        """Setting -> the Hub id or folder it loads from (``models.revisions`` pins these ids)."""
        return {"sd_model": self.sd_model, **({"vae": self.vae} if self.vae else {})}

    def checkpoint_record(self) -> dict[str, str | None]:
        """The checkpoints as a manifest line records them (key -> id, or repository path of a file)."""
        return {"sd_model": self.sd_model, "vae": self.vae}


class IPAdapterSettings(StableDiffusionSettings):
    """Stable Diffusion with an IP-Adapter: DALDA's generator and its defaults (h94/IP-Adapter's SD 1.5 adapter)."""

    ip_adapter_repo: str = Field("h94/IP-Adapter", description="IP-Adapter repository: Hub id or local folder.")
    ip_adapter_subfolder: str = Field("models", description="Folder of the IP-Adapter weights in that repository.")
    ip_adapter_weight: str = Field("ip-adapter_sd15.bin", description="IP-Adapter weight file name.")
    image_encoder_subfolder: str = Field(
        "models/image_encoder", description="Folder of the IP-Adapter's CLIP image encoder in that repository."
    )
    negative_prompt: str = Field(
        IP_ADAPTER_NEGATIVE_PROMPT,
        description="Negative prompt of every image (default: IP-Adapter's own, the authors'); empty: none.",
    )

    def checkpoints(self) -> IPAdapterCheckpoints:
        from dalda.models.checkpoints import IPAdapterCheckpoints

        return IPAdapterCheckpoints(
            sd_model=self.sd_model,
            vae=self.vae,
            section=SECTION,
            ip_adapter_repo=self.ip_adapter_repo,
            ip_adapter_subfolder=self.ip_adapter_subfolder,
            ip_adapter_weight=self.ip_adapter_weight,
            image_encoder_subfolder=self.image_encoder_subfolder,
        )

    def checkpoint_ids(self) -> dict[str, str]:
        return {**super().checkpoint_ids(), "ip_adapter_repo": self.ip_adapter_repo}

    def checkpoint_record(self) -> dict[str, str | None]:
        repo = self.ip_adapter_repo
        return {
            **super().checkpoint_record(),
            "ip_adapter": f"{repo}/{self.ip_adapter_subfolder}/{self.ip_adapter_weight}",
            "image_encoder": f"{repo}/{self.image_encoder_subfolder}",
        }


class Img2ImgSettings(StableDiffusionSettings):
    """SD img2img as the DA-Fusion code base runs its baselines: the pipeline's default sampler, no negative prompt."""

    scheduler: Scheduler = Field(
        "pndm", description="Sampler (the baselines' code base: the pipeline's default, PNDM)."
    )
    steps: int = Field(50, ge=1, le=1000, description="Denoising steps (the baselines' code base: 50).")


class TextualInversionSettings(Img2ImgSettings):
    """img2img with one token per class learned from the few shots (DA-Fusion's set-up)."""

    ti_steps: int = Field(1000, ge=1, le=1_000_000, description="Textual inversion: optimisation steps per class.")
    ti_batch_size: int = Field(
        4, ge=1, le=4096, json_schema_extra=sized("images", 64),
        description="Textual inversion batch size.",
    )
    ti_learning_rate: float = Field(5e-4, gt=0.0, le=1.0, description="Textual inversion base learning rate.")
    ti_scale_lr: bool = Field(True, description="Multiply the learning rate by the batch size (DA-Fusion's scale_lr).")
    ti_resolution: int = Field(
        512,
        ge=8,
        le=16_384,
        multiple_of=8,
        json_schema_extra=sized("px", 2048),
        description="Training image size in pixels for textual inversion (a multiple of 8).",
    )
    ti_gradient_checkpointing: bool = Field(True, description="Trade compute for memory (CUDA only).")
    ti_init_word: str | None = Field(
        "the",
        description="Word whose embedding starts each class token (their code base: 'the'); null: the mean "
        "embedding of the class name's tokens.",
    )


class SDXLIPAdapterSettings(IPAdapterSettings):
    """DALDA's settings with SDXL's checkpoints and size."""

    sd_model: str = Field(
        "stabilityai/stable-diffusion-xl-base-1.0", description="SDXL checkpoint: Hub id or local folder."
    )
    vae: str | None = Field(
        None,
        description="VAE id or folder that replaces the model's own; null: its own (madebyollin/sdxl-vae-fp16-fix "
        "decodes in float16 without the upcast).",
    )
    ip_adapter_subfolder: str = Field(
        "sdxl_models", description="Folder of the IP-Adapter weights in that repository."
    )
    ip_adapter_weight: str = Field("ip-adapter_sdxl_vit-h.safetensors", description="IP-Adapter weight file name.")
    resolution: int = Field(
        1024,
        ge=8,
        le=16_384,
        multiple_of=8,
        json_schema_extra=sized("px", 2048),
        description="Generation size in pixels (square), a multiple of 8 (SDXL: 1024).",
    )


def size_conditioning(resolution: int) -> dict[str, tuple[int, int]]:
    """SDXL's micro-conditioning for a square ``resolution`` image made from scratch (the stock defaults)."""
    return {
        "original_size": (resolution, resolution),
        "target_size": (resolution, resolution),
        "crops_coords_top_left": (0, 0),
    }


def sd_manifest_settings(settings: StableDiffusionSettings, config: DaldaConfig) -> dict[str, Any]:
    """What a manifest line of an SD generator records besides its row: the settings that decide its pixels.

    The generator's checkpoints and sampler, the models profile, whether the stage's writer resized the image
    back to its source (``generation.resize_to_source``), and the ``models.revisions`` pins of the generator's
    own checkpoints, keyed by the setting that names each checkpoint (the line holds the id beside it). Batch
    size, dtype, device and speed options are left out: an image depends on them only within the tolerance
    documented in ``dalda.generation`` (they change rounding, not content).
    """
    pins = config.models.revisions
    return {
        "models_profile": config.models.profile,
        **settings.checkpoint_record(),
        "scheduler": settings.scheduler,
        "steps": settings.steps,
        "guidance_scale": settings.guidance_scale,
        "resolution": settings.resolution,
        "resize_to_source": config.generation.resize_to_source,
        "revisions": {name: pins[ident] for name, ident in sorted(settings.checkpoint_ids().items()) if ident in pins},
        "negative_prompt": settings.negative_prompt,
    }
