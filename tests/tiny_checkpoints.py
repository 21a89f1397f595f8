"""A test fixture: the tiny models saved in the published checkpoints' folder layout.

With these folders a ``real`` profile config loads offline, so the tests exercise the same loading path
(``from_pretrained``, the IP-Adapter loader) that the published checkpoints go through.
"""

from __future__ import annotations

from pathlib import Path

import torch
from diffusers import StableDiffusionPipeline
from safetensors.torch import save_file

from dalda.config import ModelsConfig
from dalda.models.loaders import ddim_scheduler
from dalda.models.random_build import build_clip, build_image_encoder, build_ip_adapter_state_dict, build_sd_parts
from dalda.models.tiny import TINY


def write_tiny_checkpoints(root: Path, ip_adapter_format: str = "bin") -> ModelsConfig:
    """Save tiny models laid out like the published checkpoints; return a ``real`` config pointing at them.

    ``root/sd`` is a Stable Diffusion folder (unet, vae, text_encoder, tokenizer, scheduler), ``root/vae`` a
    VAE folder, ``root/ip-adapter`` mirrors h94/IP-Adapter (``models/ip-adapter_sd15.{bin,safetensors}`` and
    ``models/image_encoder``) and ``root/clip`` a CLIP folder (model, tokenizer, image processor).
    """
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
