"""The Stable Diffusion and IP-Adapter checkpoints the SD-based generators load, read from the ``models`` section.

``dalda.configure`` fills the ``models.*`` checkpoint fields a config leaves unset with the selected generator's
own defaults (its ``config_defaults``), so every generator reads its checkpoints from the same fields, and error
messages name them (``models.sd_model``, ``models.ip_adapter_weight``, ...).
"""

from __future__ import annotations

from dalda.config import ModelsConfig
from dalda.models.checkpoints import SDCheckpoints


def sd_checkpoints(models: ModelsConfig) -> SDCheckpoints:
    """The checkpoints named in ``models``, for the loaders of ``dalda.models.sd`` and ``dalda.models.sdxl``."""
    return SDCheckpoints(
        sd_model=models.sd_model,
        vae=models.vae,
        ip_adapter_repo=models.ip_adapter_repo,
        ip_adapter_subfolder=models.ip_adapter_subfolder,
        ip_adapter_weight=models.ip_adapter_weight,
        image_encoder_subfolder=models.image_encoder_subfolder,
        section="models",
    )
