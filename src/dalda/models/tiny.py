"""The ``tiny`` profile: every model small enough to build in well under a second and run on a CPU in tests.

Sizes are chosen so the whole pipeline works at 64 px: the VAE downsamples 2x (two blocks) into 4 latent
channels at 32x32, which the UNet (two levels) processes; the IP-Adapter image encoder and the scoring CLIP
see 32 px images. ``write_tiny_checkpoints`` saves the tiny models in the published checkpoints' folder
layout, so the ``real`` loading path can be exercised offline.
"""

from __future__ import annotations

from pathlib import Path

import torch

from dalda.config import ModelsConfig
from dalda.models.architectures import RandomArchitecture

_TEXT = {
    "hidden_size": 32,
    "intermediate_size": 37,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "max_position_embeddings": 77,
    "layer_norm_eps": 1e-5,
}
_VISION = {
    "hidden_size": 32,
    "intermediate_size": 37,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "image_size": 32,
    "patch_size": 8,
    "num_channels": 3,
    "layer_norm_eps": 1e-5,
}

TINY = RandomArchitecture(
    name="tiny",
    unet={
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
    vae={
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
    text_encoder=_TEXT,
    image_encoder={**_VISION, "projection_dim": 32},
    clip_text=_TEXT,
    clip_vision=_VISION,
    clip_projection_dim=16,
    backbone_block="basic",
    backbone_layers=(1, 1, 1, 1),
    backbone_image_size=32,
)


def write_tiny_checkpoints(root: Path, ip_adapter_format: str = "bin") -> ModelsConfig:
    """Save tiny models laid out like the published checkpoints; return a ``real`` config pointing at them.

    ``root/sd`` is a Stable Diffusion folder (unet, vae, text_encoder, tokenizer, scheduler), ``root/vae`` a
    VAE folder, ``root/ip-adapter`` mirrors h94/IP-Adapter (``models/ip-adapter_sd15.{bin,safetensors}`` and
    ``models/image_encoder``) and ``root/clip`` a CLIP folder (model, tokenizer, image processor).
    """
    from diffusers import StableDiffusionPipeline
    from safetensors.torch import save_file

    from dalda.models.kit import ddim_scheduler
    from dalda.models.random_build import build_clip, build_image_encoder, build_ip_adapter_state_dict, build_sd_parts

    root = Path(root)
    parts = build_sd_parts(TINY)
    pipe = StableDiffusionPipeline(
        **parts, scheduler=ddim_scheduler(), safety_checker=None, feature_extractor=None, requires_safety_checker=False
    )
    pipe.save_pretrained(root / "sd")
    parts["vae"].save_pretrained(root / "vae")

    image_encoder = build_image_encoder(TINY)
    models = root / "ip-adapter" / "models"
    image_encoder.save_pretrained(models / "image_encoder")
    weights = build_ip_adapter_state_dict(parts["unet"], int(image_encoder.config.projection_dim), TINY)
    weight_name = f"ip-adapter_sd15.{ip_adapter_format}"
    if ip_adapter_format == "bin":
        torch.save(weights, models / weight_name)
    elif ip_adapter_format == "safetensors":
        flat = {f"{group}.{key}": value for group, tensors in weights.items() for key, value in tensors.items()}
        save_file(flat, models / weight_name)
    else:
        raise ValueError(f"ip_adapter_format={ip_adapter_format!r}; use bin or safetensors")

    model, tokenizer, processor = build_clip(TINY)
    for part in (model, tokenizer, processor):
        part.save_pretrained(root / "clip")

    return ModelsConfig(
        profile="real",
        sd_model=str(root / "sd"),
        vae=str(root / "vae"),
        ip_adapter_repo=str(root / "ip-adapter"),
        ip_adapter_subfolder="models",
        ip_adapter_weight=weight_name,
        image_encoder_subfolder="models/image_encoder",
        clip_model=str(root / "clip"),
        device="cpu",
    )
