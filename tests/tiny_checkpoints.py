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
from dalda.generators.settings import IPAdapterSettings
from dalda.models.clip import build_clip
from dalda.models.ip_adapter import build_image_encoder, build_ip_adapter_state_dict
from dalda.models.schedulers import ddim_scheduler
from dalda.models.sd import build_sd_parts

TINY = "tiny"


def write_tiny_checkpoints(root: Path, ip_adapter_format: str = "bin") -> tuple[ModelsConfig, IPAdapterSettings]:
    """Save tiny models laid out like the published checkpoints; return a ``real`` models config (its CLIP
    pointing at them) and the ip-adapter generator's settings naming them.

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

    settings = IPAdapterSettings(
        sd_model=str(root / "sd"),
        vae=str(root / "vae"),
        ip_adapter_repo=str(root / "ip-adapter"),
        ip_adapter_subfolder="models",
        ip_adapter_weight=weight_name,
        image_encoder_subfolder="models/image_encoder",
    )
    return ModelsConfig(profile="real", clip_model=str(root / "clip"), device="cpu"), settings


def write_tiny_siglip(folder: Path) -> Path:
    """The tiny SigLIP (model, tokenizer, image processor) saved in the published SigLIP folder layout, for a
    scorer's ``model`` setting under the ``real`` profile; returns ``folder``."""
    from dalda.models.siglip import build_siglip

    for part in build_siglip(TINY):
        part.save_pretrained(folder)
    return Path(folder)


def write_tiny_blip_vqa(folder: Path) -> Path:
    """The tiny BLIP VQA model and its processor saved in the published folder layout; returns ``folder``."""
    from dalda.models.blip_vqa import build_blip_vqa

    for part in build_blip_vqa(TINY):
        part.save_pretrained(folder)
    return Path(folder)


def _save_ip_adapter(weights: dict[str, dict[str, torch.Tensor]], path: Path) -> None:
    """An IP-Adapter state dict as the published ``.safetensors`` files store it (``image_proj.*``,
    ``ip_adapter.*``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    flat = {f"{group}.{key}": tensor.contiguous() for group, part in weights.items() for key, tensor in part.items()}
    save_file(flat, path)


def write_tiny_beyond_checkpoints(root: Path) -> dict[str, Path]:
    """Tiny models for the ``ip-adapter-plus`` and ``sdxl-ip-adapter`` generators in the published layouts.

    Returns the folders by the published id they stand for: ``stable-diffusion-v1-5/stable-diffusion-v1-5``
    (an SD diffusers folder), ``stabilityai/sd-vae-ft-mse`` (a VAE folder),
    ``stabilityai/stable-diffusion-xl-base-1.0`` (an SDXL diffusers folder: unet, vae,
    text_encoder, text_encoder_2, tokenizer, tokenizer_2, scheduler) and ``h94/IP-Adapter`` with
    ``models/image_encoder``, ``models/ip-adapter-plus_sd15.safetensors`` and
    ``sdxl_models/ip-adapter_sdxl_vit-h.safetensors``, each file at its published path and name.
    """
    from diffusers import StableDiffusionXLPipeline

    from dalda.models.ip_adapter import build_ip_adapter_plus_state_dict, build_sdxl_ip_adapter_state_dict
    from dalda.models.sdxl import build_sdxl_parts

    root = Path(root)
    folders = {
        "stable-diffusion-v1-5/stable-diffusion-v1-5": root / "sd15",
        "stabilityai/stable-diffusion-xl-base-1.0": root / "sdxl",
        "h94/IP-Adapter": root / "ip-adapter",
        "stabilityai/sd-vae-ft-mse": root / "vae",
    }
    parts = build_sd_parts(TINY)
    parts["vae"].save_pretrained(folders["stabilityai/sd-vae-ft-mse"])
    StableDiffusionPipeline(
        **parts, scheduler=ddim_scheduler(), safety_checker=None, feature_extractor=None, requires_safety_checker=False
    ).save_pretrained(folders["stable-diffusion-v1-5/stable-diffusion-v1-5"])
    xl_parts = build_sdxl_parts(TINY)
    StableDiffusionXLPipeline(**xl_parts, scheduler=ddim_scheduler(), add_watermarker=False).save_pretrained(
        folders["stabilityai/stable-diffusion-xl-base-1.0"]
    )
    adapters = folders["h94/IP-Adapter"]
    image_encoder = build_image_encoder(TINY)
    image_encoder.save_pretrained(adapters / "models" / "image_encoder")
    plus = build_ip_adapter_plus_state_dict(parts["unet"], int(image_encoder.config.hidden_size), TINY)
    _save_ip_adapter(plus, adapters / "models" / "ip-adapter-plus_sd15.safetensors")
    xl = build_sdxl_ip_adapter_state_dict(xl_parts["unet"], int(image_encoder.config.projection_dim), TINY)
    _save_ip_adapter(xl, adapters / "sdxl_models" / "ip-adapter_sdxl_vit-h.safetensors")
    return folders


def as_hub_cache(folders: dict[str, Path], cache: Path) -> Path:
    """Lay ``folders`` out as a Hugging Face Hub cache (``models--owner--name/snapshots/<commit>`` and
    ``refs/main``), so that loading by the published id with ``local_files_only`` finds them; returns ``cache``."""
    import shutil

    commit = "0" * 40
    for repo_id, folder in folders.items():
        entry = Path(cache) / f"models--{repo_id.replace('/', '--')}"
        shutil.copytree(folder, entry / "snapshots" / commit)
        (entry / "refs").mkdir(parents=True)
        (entry / "refs" / "main").write_text(commit)
    return Path(cache)
