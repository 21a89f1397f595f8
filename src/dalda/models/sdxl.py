"""SDXL: UNet, VAE, two text encoders and their tokenizers, and the SDXL + IP-Adapter pipeline.

Same contract as ``sd.py``, with the same :class:`~dalda.models.checkpoints.IPAdapterCheckpoints` naming the SDXL
model. ``full-random`` is ``stabilityai/stable-diffusion-xl-base-1.0``'s config files (UNet 2.6 B parameters, CLIP
ViT-L/14 and OpenCLIP ViT-bigG/14 text towers). ``tiny`` is SDXL in miniature: two text encoders whose hidden
states are concatenated (32 + 32 = the UNet's 64-wide cross-attention), the pooled projection of the second
plus six 8-wide size/crop embeddings (32 + 48 = 80) as the "text_time" added condition.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dalda.config import ModelsConfig
from dalda.models import hub
from dalda.models.checkpoints import IPAdapterCheckpoints, SDCheckpoints
from dalda.models.device import freeze_pipeline, resolve_device, resolve_dtype
from dalda.models.ip_adapter import (
    attach_ip_adapter,
    build_sdxl_ip_adapter_state_dict,
    expect_projection,
    image_processor_for,
    load_image_encoder,
)
from dalda.models.random_profiles import seeded, shape_for
from dalda.models.schedulers import ddim_scheduler
from dalda.models.tokenizer import CLIP_VOCAB_SIZE, build_byte_level_tokenizer, special_token_ids

if TYPE_CHECKING:
    from diffusers import StableDiffusionXLPipeline

_TINY_TEXT = {
    "hidden_size": 32,
    "intermediate_size": 37,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "max_position_embeddings": 77,
    "layer_norm_eps": 1e-5,
}
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
            "attention_head_dim": (2, 4),
            "use_linear_projection": True,
            "addition_embed_type": "text_time",
            "addition_time_embed_dim": 8,
            "transformer_layers_per_block": (1, 2),
            "projection_class_embeddings_input_dim": 80,
            "cross_attention_dim": 64,
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
            "scaling_factor": 0.13025,
            "force_upcast": True,
        },
        "text_encoder": _TINY_TEXT,  # transformers.CLIPTextConfig
        "text_encoder_2": {**_TINY_TEXT, "projection_dim": 32},  # the same, with its projection
        "tokenizer_vocab_size": None,  # the offline tokenizer's own size
    },
    "full-random": {
        "unet": {
            "sample_size": 128,
            "in_channels": 4,
            "out_channels": 4,
            "block_out_channels": (320, 640, 1280),
            "layers_per_block": 2,
            "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
            "up_block_types": ("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
            "attention_head_dim": (5, 10, 20),
            "transformer_layers_per_block": (1, 2, 10),
            "use_linear_projection": True,
            "addition_embed_type": "text_time",
            "addition_embed_type_num_heads": 64,
            "addition_time_embed_dim": 256,
            "projection_class_embeddings_input_dim": 2816,
            "cross_attention_dim": 2048,
            "norm_num_groups": 32,
            "norm_eps": 1e-5,
            "act_fn": "silu",
            "flip_sin_to_cos": True,
            "freq_shift": 0,
        },
        "vae": {
            "sample_size": 1024,
            "in_channels": 3,
            "out_channels": 3,
            "block_out_channels": (128, 256, 512, 512),
            "down_block_types": ("DownEncoderBlock2D",) * 4,
            "up_block_types": ("UpDecoderBlock2D",) * 4,
            "latent_channels": 4,
            "layers_per_block": 2,
            "norm_num_groups": 32,
            "act_fn": "silu",
            "scaling_factor": 0.13025,
            "force_upcast": True,
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
        "text_encoder_2": {
            "hidden_size": 1280,
            "intermediate_size": 5120,
            "num_hidden_layers": 32,
            "num_attention_heads": 20,
            "max_position_embeddings": 77,
            "hidden_act": "gelu",
            "layer_norm_eps": 1e-5,
            "projection_dim": 1280,
        },
        "tokenizer_vocab_size": CLIP_VOCAB_SIZE,
    },
}
SEEDS = {"unet": 12, "vae": 13, "text_encoder": 14, "text_encoder_2": 15}
"""The seed each random part is built under (see ``random_profiles.seeded``)."""


def build_sdxl_parts(profile: str) -> dict[str, Any]:
    """The random profile's SDXL parts (keyword names of diffusers' SDXL pipelines)."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    shape = shape_for(SHAPES, profile, "SDXL model")
    tokenizer = build_byte_level_tokenizer(shape["tokenizer_vocab_size"])
    tokenizer_2 = build_byte_level_tokenizer(shape["tokenizer_vocab_size"])
    with seeded(SEEDS["unet"]):
        unet = UNet2DConditionModel(**shape["unet"])
    with seeded(SEEDS["vae"]):
        vae = AutoencoderKL(**shape["vae"])
    with seeded(SEEDS["text_encoder"]):
        text_encoder = CLIPTextModel(CLIPTextConfig(**shape["text_encoder"], **special_token_ids(tokenizer)))
    with seeded(SEEDS["text_encoder_2"]):
        text_encoder_2 = CLIPTextModelWithProjection(
            CLIPTextConfig(**shape["text_encoder_2"], **special_token_ids(tokenizer_2))
        )
    return {
        "unet": unet,
        "vae": vae,
        "text_encoder": text_encoder,
        "text_encoder_2": text_encoder_2,
        "tokenizer": tokenizer,
        "tokenizer_2": tokenizer_2,
    }


def load_sdxl_parts(cfg: ModelsConfig, checkpoints: SDCheckpoints) -> dict[str, Any]:
    """SDXL's UNet, VAE, both text encoders and tokenizers from ``checkpoints.sd_model``; ``checkpoints.vae``
    replaces the VAE when set."""
    if cfg.profile != "real":
        return build_sdxl_parts(cfg.profile)
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

    name, field = checkpoints.sd_model, checkpoints.field("sd_model")
    parts: dict[str, Any] = {
        "unet": hub.load(UNet2DConditionModel, cfg, name, field, subfolder="unet"),
        "text_encoder": hub.load(CLIPTextModel, cfg, name, field, subfolder="text_encoder"),
        "text_encoder_2": hub.load(CLIPTextModelWithProjection, cfg, name, field, subfolder="text_encoder_2"),
        "tokenizer": hub.load(CLIPTokenizer, cfg, name, field, subfolder="tokenizer"),
        "tokenizer_2": hub.load(CLIPTokenizer, cfg, name, field, subfolder="tokenizer_2"),
    }
    if checkpoints.vae is None:
        parts["vae"] = hub.load(AutoencoderKL, cfg, name, field, subfolder="vae")
    else:
        parts["vae"] = hub.load(AutoencoderKL, cfg, checkpoints.vae, checkpoints.field("vae"))
    return parts


def load_sdxl_ip_adapter_pipeline(cfg: ModelsConfig, checkpoints: IPAdapterCheckpoints) -> StableDiffusionXLPipeline:
    """SDXL + IP-Adapter (``sdxl_models/ip-adapter_sdxl_vit-h``, ViT-H image encoder), DDIM, no watermark.

    The sampler is DDIM with the same noise schedule as SD 1.x, which is also SDXL's own (its scheduler config
    has the same betas and offset); the engine swaps in the generator's ``scheduler`` setting. The invisible watermark of
    diffusers' SDXL pipeline is off: it would add a pattern to every training image. The VAE keeps its own
    ``force_upcast``: SDXL's VAE decodes in float32 even in a float16 run (the stock pipeline does the
    upcast), the fp16-fix VAE (``madebyollin/sdxl-vae-fp16-fix``) decodes in float16.
    """
    from diffusers import StableDiffusionXLPipeline
    from diffusers.models.embeddings import ImageProjection

    device = resolve_device(cfg)
    dtype = resolve_dtype(cfg, device)
    image_encoder = load_image_encoder(cfg, checkpoints)
    pipe = StableDiffusionXLPipeline(
        **load_sdxl_parts(cfg, checkpoints),
        scheduler=ddim_scheduler(),
        feature_extractor=image_processor_for(image_encoder),
        image_encoder=image_encoder,
        add_watermarker=False,
    )
    attach_ip_adapter(
        pipe,
        cfg,
        checkpoints,
        lambda unet, encoder, profile: build_sdxl_ip_adapter_state_dict(
            unet, int(encoder.config.projection_dim), profile
        ),
    )
    expect_projection(pipe, ImageProjection, checkpoints, "an SDXL one such as ip-adapter_sdxl_vit-h.safetensors")
    return freeze_pipeline(pipe, device, dtype)
