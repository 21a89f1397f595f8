"""Architectures of the random-weight profiles, as plain data.

A ``RandomArchitecture`` names every model's shape: ``tiny`` (``tiny.py``) is small enough for tests,
``full-random`` (``full_random.py``) is the real checkpoints' architecture; ``profiles.py`` names them. ``random_build.py`` turns either one
into models with the same code, so the two differ only in numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class RandomArchitecture:
    """Keyword arguments of each component's config class; see the module docstring."""

    name: str
    unet: dict[str, Any]  # diffusers.UNet2DConditionModel
    vae: dict[str, Any]  # diffusers.AutoencoderKL
    text_encoder: dict[str, Any]  # transformers.CLIPTextConfig (SD's text encoder)
    image_encoder: dict[str, Any]  # transformers.CLIPVisionConfig incl. projection_dim (IP-Adapter's encoder)
    clip_text: dict[str, Any]  # transformers.CLIPTextConfig (scoring / probing CLIP)
    clip_vision: dict[str, Any]  # transformers.CLIPVisionConfig (scoring / probing CLIP)
    clip_projection_dim: int
    backbone_block: Literal["basic", "bottleneck"]  # torchvision ResNet block type
    backbone_layers: tuple[int, int, int, int]
    backbone_image_size: int
    tokenizer_vocab_size: int | None = None  # None: the byte-level tokenizer's own size
    ip_adapter_tokens: int = 4  # image tokens of the plain IP-Adapter (ip-adapter_sd15)
    seed: int = 0
    siglip: dict[str, Any] | None = None  # transformers.SiglipConfig kwargs ({text,vision}_config); None: not built
    blip_vqa: dict[str, Any] | None = None  # transformers.BlipConfig kwargs ({text,vision}_config); None: not built
    ip_adapter_plus: dict[str, Any] | None = None
    """IP-Adapter Plus resampler (``hidden_dims``, ``heads``, ``num_queries``); its input width is the image
    encoder's hidden size and its output width the UNet's cross-attention size. None: not built."""
    sdxl: dict[str, Any] | None = None
    """SDXL's parts: ``unet``, ``vae`` (diffusers configs), ``text_encoder``, ``text_encoder_2`` (transformers
    ``CLIPTextConfig``, the second with ``projection_dim``) and ``ip_adapter_tokens``. None: not built."""
