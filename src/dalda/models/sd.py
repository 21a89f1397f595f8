"""Stable Diffusion 1.x: UNet, VAE, text encoder and tokenizer, and the pipelines dalda assembles from them
(SD + IP-Adapter, SD + IP-Adapter Plus, img2img for the baselines).

Every loader honours ``models.profile``:

- ``real``: the checkpoints named in the given :class:`~dalda.models.checkpoints.SDCheckpoints` (Hub ids or
  local folders with the same layout);
- ``tiny``: small random models built offline in code (tests, the offline demo); deterministic. Sizes are chosen
  so the whole pipeline works at 64 px: the VAE downsamples 2x (two blocks) into 4 latent channels at 32x32,
  which the UNet (two levels) processes. The tests save these models in the published checkpoints' folder
  layout (``tests/tiny_checkpoints.py``), so the ``real`` loading path can be exercised offline;
- ``full-random``: the published architectures with random weights and no download (benchmarks of true cost):
  SD v1.x's UNet and text encoder (CLIP ViT-L/14's text tower), the SD VAE, and the offline tokenizer padded to
  CLIP's 49 408 tokens so the embedding table has the real shape.

The three profiles go through the same assembly code (same pipeline class, same IP-Adapter loader, same
scheduler), so what the tests exercise with tiny models is what runs with the real checkpoints. Pipelines come
back on ``resolve_device``/``resolve_dtype`` in eval mode with gradients off; each call builds fresh objects
except :func:`img2img_pipeline_from`, which shares its base pipeline's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dalda.config import ModelsConfig
from dalda.models import hub
from dalda.models.checkpoints import IPAdapterCheckpoints, SDCheckpoints
from dalda.models.device import freeze_pipeline, resolve_device, resolve_dtype
from dalda.models.ip_adapter import (
    RandomWeights,
    attach_ip_adapter,
    build_ip_adapter_plus_state_dict,
    build_ip_adapter_state_dict,
    expect_projection,
    image_processor_for,
    load_image_encoder,
)
from dalda.models.random_profiles import seeded, shape_for
from dalda.models.schedulers import ddim_scheduler
from dalda.models.tokenizer import CLIP_VOCAB_SIZE, build_byte_level_tokenizer, special_token_ids
from dalda.models.unet_sharing import unet_without_ip_adapter

if TYPE_CHECKING:
    from diffusers import StableDiffusionImg2ImgPipeline, StableDiffusionPipeline

SHAPES: dict[str, dict[str, Any]] = {
    "tiny": {
        "unet": {  # diffusers.UNet2DConditionModel
            "sample_size": 32,
            "in_channels": 4,
            "out_channels": 4,
            "block_out_channels": (32, 64),
            "layers_per_block": 1,
            "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D"),
            "up_block_types": ("CrossAttnUpBlock2D", "UpBlock2D"),
            "cross_attention_dim": 32,
            "attention_head_dim": 8,
            "norm_num_groups": 32,
        },
        "vae": {  # diffusers.AutoencoderKL
            "sample_size": 64,
            "in_channels": 3,
            "out_channels": 3,
            "block_out_channels": (32, 64),
            "down_block_types": ("DownEncoderBlock2D", "DownEncoderBlock2D"),
            "up_block_types": ("UpDecoderBlock2D", "UpDecoderBlock2D"),
            "latent_channels": 4,
            "layers_per_block": 1,
            "norm_num_groups": 32,
        },
        "text_encoder": {  # transformers.CLIPTextConfig
            "hidden_size": 32,
            "intermediate_size": 37,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "max_position_embeddings": 77,
            "layer_norm_eps": 1e-5,
        },
        "tokenizer_vocab_size": None,  # the offline tokenizer's own size
    },
    "full-random": {
        "unet": {
            "sample_size": 64,
            "in_channels": 4,
            "out_channels": 4,
            "block_out_channels": (320, 640, 1280, 1280),
            "layers_per_block": 2,
            "down_block_types": ("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
            "up_block_types": ("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
            "cross_attention_dim": 768,
            "attention_head_dim": 8,
            "norm_num_groups": 32,
            "norm_eps": 1e-5,
            "act_fn": "silu",
            "center_input_sample": False,
            "downsample_padding": 1,
            "flip_sin_to_cos": True,
            "freq_shift": 0,
            "mid_block_scale_factor": 1,
        },
        "vae": {
            "sample_size": 512,
            "in_channels": 3,
            "out_channels": 3,
            "block_out_channels": (128, 256, 512, 512),
            "down_block_types": ("DownEncoderBlock2D",) * 4,
            "up_block_types": ("UpDecoderBlock2D",) * 4,
            "latent_channels": 4,
            "layers_per_block": 2,
            "norm_num_groups": 32,
            "act_fn": "silu",
            "scaling_factor": 0.18215,
        },
        "text_encoder": {
            "hidden_size": 768,
            "intermediate_size": 3072,
            "num_hidden_layers": 12,
            "num_attention_heads": 12,
            "max_position_embeddings": 77,
            "hidden_act": "quick_gelu",
            "layer_norm_eps": 1e-5,
            "projection_dim": 768,
        },
        "tokenizer_vocab_size": CLIP_VOCAB_SIZE,
    },
}
SEEDS = {"unet": 1, "vae": 2, "text_encoder": 3}
"""The seed each random part is built under (see ``random_profiles.seeded``)."""


def build_sd_parts(profile: str) -> dict[str, Any]:
    """The random profile's UNet, VAE, text encoder and tokenizer (keyword names of the diffusers pipelines)."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    shape = shape_for(SHAPES, profile, "Stable Diffusion model")
    tokenizer = build_byte_level_tokenizer(shape["tokenizer_vocab_size"])
    with seeded(SEEDS["unet"]):
        unet = UNet2DConditionModel(**shape["unet"])
    with seeded(SEEDS["vae"]):
        vae = AutoencoderKL(**shape["vae"])
    with seeded(SEEDS["text_encoder"]):
        text_encoder = CLIPTextModel(CLIPTextConfig(**shape["text_encoder"], **special_token_ids(tokenizer)))
    return {"unet": unet, "vae": vae, "text_encoder": text_encoder, "tokenizer": tokenizer}


def load_sd_parts(cfg: ModelsConfig, checkpoints: SDCheckpoints) -> dict[str, Any]:
    """UNet, VAE, text encoder and tokenizer of ``checkpoints.sd_model`` (no IP-Adapter); ``checkpoints.vae``
    replaces the VAE when set."""
    if cfg.profile != "real":
        return build_sd_parts(cfg.profile)
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTokenizer

    name, field = checkpoints.sd_model, checkpoints.field("sd_model")
    parts: dict[str, Any] = {
        "unet": hub.load(UNet2DConditionModel, cfg, name, field, subfolder="unet"),
        "text_encoder": hub.load(CLIPTextModel, cfg, name, field, subfolder="text_encoder"),
        "tokenizer": hub.load(CLIPTokenizer, cfg, name, field, subfolder="tokenizer"),
    }
    if checkpoints.vae is None:
        parts["vae"] = hub.load(AutoencoderKL, cfg, name, field, subfolder="vae")
    else:
        parts["vae"] = hub.load(AutoencoderKL, cfg, checkpoints.vae, checkpoints.field("vae"))
    return parts


def load_sd_ip_adapter_pipeline(cfg: ModelsConfig, checkpoints: IPAdapterCheckpoints) -> StableDiffusionPipeline:
    """SD 1.x + IP-Adapter, loaded through diffusers' own IP-Adapter loader, DDIM, no safety checker.

    ``pipe.set_ip_adapter_scale(lambda)`` sets the image-prompt weight; ``ip_adapter_image=`` the image prompt.
    """
    return _sd_ip_adapter_pipeline(
        cfg,
        checkpoints,
        lambda unet, encoder, profile: build_ip_adapter_state_dict(unet, int(encoder.config.projection_dim), profile),
    )


def load_sd_ip_adapter_plus_pipeline(cfg: ModelsConfig, checkpoints: IPAdapterCheckpoints) -> StableDiffusionPipeline:
    """SD 1.x + IP-Adapter Plus (``ip-adapter-plus_sd15``): the image encoder's patch tokens (penultimate hidden
    states) go through a resampler instead of one pooled embedding through a linear projection.

    Same assembly as :func:`load_sd_ip_adapter_pipeline`; the real profile checks that the weight file named
    by ``checkpoints.ip_adapter_weight`` really is a "plus" one.
    """
    from diffusers.models.embeddings import IPAdapterPlusImageProjection

    pipe = _sd_ip_adapter_pipeline(
        cfg,
        checkpoints,
        lambda unet, encoder, profile: build_ip_adapter_plus_state_dict(unet, int(encoder.config.hidden_size), profile),
    )
    expect_projection(
        pipe, IPAdapterPlusImageProjection, checkpoints, "a plus one such as ip-adapter-plus_sd15.safetensors"
    )
    return pipe


def _sd_ip_adapter_pipeline(
    cfg: ModelsConfig, checkpoints: IPAdapterCheckpoints, random_weights: RandomWeights
) -> StableDiffusionPipeline:
    """The SD 1.x assembly shared by both IP-Adapter kinds; ``random_weights`` gives the adapter of the random
    profiles, in the published layout."""
    from diffusers import StableDiffusionPipeline

    device = resolve_device(cfg)
    dtype = resolve_dtype(cfg, device)
    image_encoder = load_image_encoder(cfg, checkpoints)
    pipe = StableDiffusionPipeline(
        **load_sd_parts(cfg, checkpoints),
        scheduler=ddim_scheduler(),
        safety_checker=None,
        feature_extractor=image_processor_for(image_encoder),
        image_encoder=image_encoder,
        requires_safety_checker=False,
    )
    attach_ip_adapter(pipe, cfg, checkpoints, random_weights)
    return freeze_pipeline(pipe, device, dtype)


def load_img2img_pipeline(cfg: ModelsConfig, checkpoints: SDCheckpoints) -> StableDiffusionImg2ImgPipeline:
    """SD img2img for the baselines (Real Guidance, DA-Fusion): ``checkpoints.sd_model`` without IP-Adapter
    (the adapter fields are not read)."""
    from diffusers import StableDiffusionImg2ImgPipeline

    device = resolve_device(cfg)
    dtype = resolve_dtype(cfg, device)
    pipe = StableDiffusionImg2ImgPipeline(
        **load_sd_parts(cfg, checkpoints),
        scheduler=ddim_scheduler(),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    return freeze_pipeline(pipe, device, dtype)


def img2img_pipeline_from(base: StableDiffusionPipeline) -> StableDiffusionImg2ImgPipeline:
    """SD img2img made of ``base``'s own modules, living where ``base`` does.

    Its VAE, text encoder and tokenizer are the very same objects: no second copy in memory, and
    textual-inversion tokens added here are visible there too. If ``base``'s UNet carries an IP-Adapter, the
    img2img UNet is a second module whose parameters are ``base``'s own parameter objects but whose attention
    is plain, because an IP-Adapter UNet refuses to run without an image prompt. The scheduler is a fresh copy
    of ``base``'s (it is stateful and tiny).
    """
    from diffusers import StableDiffusionImg2ImgPipeline

    pipe = StableDiffusionImg2ImgPipeline(
        vae=base.vae,
        text_encoder=base.text_encoder,
        tokenizer=base.tokenizer,
        unet=unet_without_ip_adapter(base.unet),
        scheduler=base.scheduler.__class__.from_config(base.scheduler.config),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.set_progress_bar_config(disable=True)
    return pipe
