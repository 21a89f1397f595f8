"""Where loaded models run: the configured device and dtype, and the frozen inference state every model is put in.

Every family module of this package hands back its models through :func:`freeze` (or :func:`freeze_pipeline`),
so whatever the profile, a model arrives on ``models.device`` in ``models.dtype``, in eval mode, gradients off.
"""

from __future__ import annotations

from typing import Any

import torch

from dalda.config import ModelsConfig


def resolve_device(cfg: ModelsConfig) -> torch.device:
    """``auto`` picks CUDA when available, else CPU; any other value is used as given (and checked)."""
    if cfg.device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(cfg.device)
    except RuntimeError:
        raise ValueError(f"models.device={cfg.device!r} is not a device; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"models.device={cfg.device!r} but CUDA is not available here; use models.device=cpu or auto")
    return device


def resolve_dtype(cfg: ModelsConfig, device: torch.device) -> torch.dtype:
    """``auto`` is float16 on CUDA (the authors' set-up for the SD pipeline) and float32 elsewhere (CPU half
    precision is slow). Under ``train.protocol=authors`` the scorer and probes ask for float32 instead
    (``dalda.protocol.probe_models``)."""
    if cfg.dtype == "auto":
        return torch.float16 if device.type == "cuda" else torch.float32
    return getattr(torch, cfg.dtype)


def freeze(module: torch.nn.Module, device: torch.device, dtype: torch.dtype | None) -> torch.nn.Module:
    """Move to device/dtype (``None``: keep the dtype), switch to eval mode and turn gradients off: every model
    here is used for inference.

    ``torch.nn.Module.to`` is called directly because diffusers' override warns about float32-only modules on
    every dtype cast even when a model has none; none of the models built here is quantized or offloaded.
    """
    torch.nn.Module.to(module, device=device, dtype=dtype)
    module.eval()
    module.requires_grad_(False)
    return module


def freeze_pipeline(pipe: Any, device: torch.device, dtype: torch.dtype) -> Any:
    """:func:`freeze` every module of a diffusers pipeline and silence its progress bar."""
    for component in pipe.components.values():
        if isinstance(component, torch.nn.Module):
            freeze(component, device, dtype)
    pipe.set_progress_bar_config(disable=True)
    return pipe
