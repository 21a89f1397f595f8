"""Count the forward FLOPs of the models a run uses, on the meta device (shapes only, no weights, no arithmetic).

``torch.utils.flop_counter.FlopCounterMode`` adds up the FLOPs of the matrix products, convolutions and attention
kernels each forward dispatches (2 per multiply-add); normalisation, activations and element-wise operations are
not counted, which leaves out a few percent. The architectures are the ``full-random`` profile's, which are the
published ones (``dalda.models.sd``, ``dalda.models.sdxl``, ``dalda.models.ip_adapter``, ``dalda.models.clip``,
``dalda.models.resnet50``). ``benchmarks/count_flops.py`` writes these counts to ``flops.json`` beside this module;
``tests/test_costs.py`` recounts a case that file does not hold and checks it against the stored scaling.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

PROFILE = "full-random"
UNET_FAMILIES = ("sd", "sdxl")
"""The UNet architectures a generator can run: Stable Diffusion 1.x and SDXL."""
TEXT_TOKENS = 77
LATENT_FACTOR = 8
"""Pixels per latent pixel along a side (both VAEs downsample 8×)."""


def count(forward: Callable[[], Any]) -> int:
    """FLOPs of one call of ``forward`` (which builds its inputs on the meta device)."""
    with FlopCounterMode(display=False) as counter:
        forward()
    return int(counter.get_total_flops())


def _shapes(family: str) -> dict[str, Any]:
    if family == "sd":
        from dalda.models.sd import SHAPES
    elif family == "sdxl":
        from dalda.models.sdxl import SHAPES
    else:
        raise ValueError(f"unknown UNet family {family!r}; choose one of {', '.join(UNET_FAMILIES)}")
    return SHAPES[PROFILE]


def unet_step_flops(family: str, resolution: int) -> int:
    """One UNet forward on one image of ``resolution`` px (one denoising step without guidance)."""
    from diffusers import UNet2DConditionModel

    shape = _shapes(family)["unet"]
    with torch.device("meta"):
        unet = UNet2DConditionModel(**shape)
        side = resolution // LATENT_FACTOR
        latents = torch.zeros(1, shape["in_channels"], side, side)
        context = torch.zeros(1, TEXT_TOKENS, shape["cross_attention_dim"])
        extra: dict[str, Any] = {}
        if shape.get("addition_embed_type") == "text_time":
            pooled = shape["projection_class_embeddings_input_dim"] - 6 * shape["addition_time_embed_dim"]
            extra = {"added_cond_kwargs": {"text_embeds": torch.zeros(1, pooled), "time_ids": torch.zeros(1, 6)}}
        timestep = torch.zeros(1)
    return count(lambda: unet(latents, timestep, encoder_hidden_states=context, **extra))


def vae_decode_flops(family: str, resolution: int) -> int:
    """Decoding one image of ``resolution`` px from its latents."""
    from diffusers import AutoencoderKL

    shape = _shapes(family)["vae"]
    with torch.device("meta"):
        vae = AutoencoderKL(**shape)
        side = resolution // LATENT_FACTOR
        latents = torch.zeros(1, shape["latent_channels"], side, side)
    return count(lambda: vae.decode(latents))


def image_encoder_flops() -> int:
    """IP-Adapter's image encoder (OpenCLIP ViT-H/14 at 224 px) on one reference image."""
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    from dalda.models.ip_adapter import SHAPES

    config = CLIPVisionConfig(**SHAPES[PROFILE]["image_encoder"])
    with torch.device("meta"):
        encoder = CLIPVisionModelWithProjection(config)
        pixels = torch.zeros(1, 3, config.image_size, config.image_size)
    return count(lambda: encoder(pixel_values=pixels))


def probe_backbone_flops(name: str) -> tuple[int, int]:
    """A classifier's backbone forward on one image: (FLOPs, the image size they were counted at)."""
    if name == "resnet50":
        from dalda.models.resnet50 import SHAPES as RESNET_SHAPES
        from torchvision.models.resnet import Bottleneck, ResNet

        size = int(RESNET_SHAPES[PROFILE]["image_size"])
        with torch.device("meta"):
            module: Any = ResNet(Bottleneck, list(RESNET_SHAPES[PROFILE]["layers"]))
            pixels = torch.zeros(1, 3, size, size)
        return count(lambda: module(pixels)), size
    if name == "clip":
        from transformers import CLIPVisionConfig, CLIPVisionModel

        from dalda.models.clip import SHAPES as CLIP_SHAPES

        config = CLIPVisionConfig(**CLIP_SHAPES[PROFILE]["vision"])
        with torch.device("meta"):
            module = CLIPVisionModel(config)
            pixels = torch.zeros(1, 3, config.image_size, config.image_size)
        return count(lambda: module(pixel_values=pixels)), config.image_size
    raise ValueError(f"no FLOP count for classifier {name!r}; counted: resnet50, clip")
