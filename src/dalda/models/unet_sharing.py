"""Sharing one set of UNet weights between the IP-Adapter pipeline and the img2img baselines.

Once an IP-Adapter is loaded, diffusers' UNet refuses to run without an image prompt (its config switches to
``encoder_hid_dim_type="ip_image_proj"`` and its cross-attention processors expect image tokens). The
baselines need the plain UNet, and a second full copy would double the largest model in memory, so the plain
UNet here is a new module whose parameters are the IP-Adapter UNet's own parameter objects.
"""

from __future__ import annotations

from typing import Any

import torch


def unet_without_ip_adapter(unet: Any) -> Any:
    """``unet`` itself when it has no IP-Adapter, else a plain-attention twin sharing every weight with it."""
    if unet.encoder_hid_proj is None or unet.config.encoder_hid_dim_type != "ip_image_proj":
        return unet
    from accelerate import init_empty_weights
    from diffusers import UNet2DConditionModel

    config = {**unet.config, "encoder_hid_dim_type": None}
    with init_empty_weights():
        twin = UNet2DConditionModel.from_config(config)
    weights = unet.state_dict(keep_vars=True)
    twin.load_state_dict({name: weights[name] for name in twin.state_dict()}, strict=True, assign=True)
    torch.nn.Module.to(twin, device=unet.device, dtype=unet.dtype)  # diffusers' own .to warns needlessly
    twin.eval()
    twin.requires_grad_(False)
    return twin
