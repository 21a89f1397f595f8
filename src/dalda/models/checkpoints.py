"""The checkpoints one Stable Diffusion generator loads: the diffusion model and its VAE, plus its IP-Adapter.

SD 1.x (``sd.py``), SDXL (``sdxl.py``) and the IP-Adapter loader they share (``ip_adapter.py``) take them as one
value from their caller instead of reading config fields, so whichever part of a config names the checkpoints,
the loaders stay the same. ``section`` is where that config keeps them: a field of this value is set by the
config field of the same name in that section (``generator.sd_model``), which is what error messages tell a user
to change. The img2img loader takes :class:`SDCheckpoints`; the IP-Adapter loaders take
:class:`IPAdapterCheckpoints`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SDCheckpoints:
    sd_model: str
    """Hub id or local folder of a diffusers Stable Diffusion (SDXL for the SDXL loader)."""
    vae: str | None
    """Hub id or folder of a VAE that replaces the model's own; None: the model's own."""
    section: str
    """The config section whose fields set these values, e.g. ``generator``."""

    def field(self, name: str) -> str:
        """The config field that sets ``name``, as error messages name it."""
        return f"{self.section}.{name}"


@dataclass(frozen=True)
class IPAdapterCheckpoints(SDCheckpoints):
    ip_adapter_repo: str
    """Hub id or folder of the IP-Adapter repository (h94/IP-Adapter's layout)."""
    ip_adapter_subfolder: str
    ip_adapter_weight: str
    """The adapter's weight file in ``ip_adapter_subfolder``."""
    image_encoder_subfolder: str
    """The folder of the adapter's CLIP image encoder in ``ip_adapter_repo``."""
