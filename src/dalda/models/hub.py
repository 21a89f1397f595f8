"""Loading published checkpoints (the ``real`` profile), with errors that say what is missing and how to fix it.

A checkpoint name is a Hugging Face Hub id or a local folder with the same layout; ``models.offline`` keeps
every load to local folders and the Hub cache. Failures are re-raised as ``ModelLoadError`` naming the config
field, the value and the three ways out (network, a local folder, the offline ``tiny`` profile).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any
from urllib.error import URLError

import torch

from dalda.config import ModelsConfig
from dalda.extras import require


class ModelLoadError(RuntimeError):
    """A checkpoint could not be loaded; the message names the config field and how to fix it."""


def _fix(field: str) -> str:
    return (
        f"Fix: download it once with network access (it is then cached), point {field} to a local folder with "
        "the same layout, or use models.profile=tiny for offline random models."
    )


def _looks_local(name: str) -> bool:
    """Hub ids are ``owner/name``; anything else path-like is meant as a local folder."""
    return Path(name).expanduser().exists() or name.startswith(("/", ".", "~")) or name.count("/") > 1 or "\\" in name


def _check_local(name: str, field: str) -> str:
    if _looks_local(name):
        path = Path(name).expanduser()
        if not path.exists():
            raise ModelLoadError(f"{field}={name!r} is a local path that does not exist. {_fix(field)}")
        return str(path)
    return name


def _revision(cfg: ModelsConfig, field: str, source: str) -> dict[str, str]:
    """``revision=`` for a Hub id pinned in ``models.revisions`` (a local folder has no revisions)."""
    revision = cfg.revisions.get(field.removeprefix("models."))
    return {"revision": revision} if revision and not _looks_local(source) else {}


def load(cls: Any, cfg: ModelsConfig, name: str, field: str, subfolder: str | None = None) -> Any:
    """``cls.from_pretrained(name, subfolder=...)`` for a diffusers/transformers class, with a clear error."""
    source = _check_local(name, field)
    kwargs: dict[str, Any] = {"local_files_only": cfg.offline, **_revision(cfg, field, source)}
    if subfolder:
        kwargs["subfolder"] = subfolder
    try:
        return cls.from_pretrained(source, **kwargs)
    except (OSError, ValueError) as error:
        where = f" (subfolder {subfolder!r})" if subfolder else ""
        raise ModelLoadError(
            f"could not load {cls.__name__} from {field}={name!r}{where}: {error}\n{_fix(field)}"
        ) from error


def load_ip_adapter(pipe: Any, cfg: ModelsConfig) -> None:
    """Load ``models.ip_adapter_repo``/``ip_adapter_subfolder``/``ip_adapter_weight`` through diffusers' loader.

    The pipeline already holds its image encoder (loaded from ``models.image_encoder_subfolder``), so the
    loader is told not to load one.
    """
    field = "models.ip_adapter_repo"
    source = _check_local(cfg.ip_adapter_repo, field)
    try:
        pipe.load_ip_adapter(
            source,
            subfolder=cfg.ip_adapter_subfolder,
            weight_name=cfg.ip_adapter_weight,
            image_encoder_folder=None,
            local_files_only=cfg.offline,
            **_revision(cfg, field, source),
        )
    except (OSError, ValueError) as error:
        raise ModelLoadError(
            f"could not load the IP-Adapter {cfg.ip_adapter_subfolder}/{cfg.ip_adapter_weight} from "
            f"{field}={cfg.ip_adapter_repo!r}: {error}\n{_fix(field)}"
        ) from error


def load_torchvision_resnet50(weights: str = "IMAGENET1K_V1") -> torch.nn.Module:
    """torchvision's ImageNet ResNet50, fc removed; ``weights`` names a ``ResNet50_Weights`` member.

    IMAGENET1K_V1 is the classic torchvision checkpoint; IMAGENET1K_V2 is ``ResNet50_Weights.DEFAULT``, which the
    authors' code loads (``train.protocol=authors``).
    """
    from torchvision.models import ResNet50_Weights, resnet50

    try:
        module = resnet50(weights=ResNet50_Weights[weights])
    except (URLError, OSError, RuntimeError) as error:
        raise ModelLoadError(
            "could not load torchvision's ImageNet ResNet50 weights (torch hub cache, $TORCH_HOME/hub/checkpoints): "
            f"{error}\nFix: download them once with network access, or use models.profile=tiny."
        ) from error
    module.fc = torch.nn.Identity()
    return module


def load_lpips_alex() -> torch.nn.Module:
    """LPIPS with its ImageNet AlexNet trunk (downloaded by torchvision on first use)."""
    lpips = require("lpips", "eval", "evaluate.lpips=true (the LPIPS diversity metric)")

    try:
        with warnings.catch_warnings():  # lpips calls torchvision with its deprecated ``pretrained=`` argument
            warnings.filterwarnings("ignore", message=".*(pretrained|weight enum).*", category=UserWarning)
            return lpips.LPIPS(net="alex", verbose=False)
    except (URLError, OSError, RuntimeError) as error:
        raise ModelLoadError(
            "could not load LPIPS' AlexNet weights (torch hub cache, $TORCH_HOME/hub/checkpoints): "
            f"{error}\nFix: download them once with network access, or use models.profile=tiny."
        ) from error
