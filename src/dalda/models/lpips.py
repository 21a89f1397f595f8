"""LPIPS (AlexNet), the perceptual distance of the LPIPS diversity metric.

``real``: LPIPS over torchvision's ImageNet AlexNet (downloaded by torchvision on first use). Both random
profiles build the same random AlexNet trunk under a fixed seed, offline; the package's own calibrated linear
heads are used in every profile. Always run in float32: the heads are float32 and distances are small numbers.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING
from urllib.error import URLError

from dalda.config import ModelsConfig
from dalda.models.device import freeze, resolve_device
from dalda.models.hub import ModelLoadError
from dalda.models.random_profiles import seeded

if TYPE_CHECKING:
    import lpips

SEED = 8
"""The seed the random trunk is built under (see ``random_profiles.seeded``)."""


def _package():  # type: ignore[no-untyped-def]
    """The ``lpips`` package, a core dependency (the demo computes LPIPS), imported only when a metric needs it."""
    import lpips as package

    return package


def build_lpips() -> lpips.LPIPS:
    """LPIPS with a random AlexNet trunk (offline) and the package's own calibrated linear heads."""
    package = _package()

    with seeded(SEED), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*(pretrained|weight enum).*", category=UserWarning)
        return package.LPIPS(net="alex", pnet_rand=True, verbose=False)


def load_lpips_alex() -> lpips.LPIPS:
    """LPIPS with its ImageNet AlexNet trunk (downloaded by torchvision on first use)."""
    package = _package()

    try:
        with warnings.catch_warnings():  # lpips calls torchvision with its deprecated ``pretrained=`` argument
            warnings.filterwarnings("ignore", message=".*(pretrained|weight enum).*", category=UserWarning)
            return package.LPIPS(net="alex", verbose=False)
    except (URLError, OSError, RuntimeError) as error:
        raise ModelLoadError(
            "could not load LPIPS' AlexNet weights (torch hub cache, $TORCH_HOME/hub/checkpoints): "
            f"{error}\nFix: download them once with network access, or use models.profile=tiny."
        ) from error


def load_lpips(cfg: ModelsConfig) -> lpips.LPIPS:
    """LPIPS per ``cfg.profile`` on ``models.device``, in float32; see the module docstring."""
    device = resolve_device(cfg)
    model = load_lpips_alex() if cfg.profile == "real" else build_lpips()
    return freeze(model, device, None)
