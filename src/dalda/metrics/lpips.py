"""LPIPS: mean pairwise LPIPS distance (higher = more diverse); 0 for identical images.

The ``lpips`` package's distance with its AlexNet trunk on images resized to ``evaluate.metrics.lpips.size`` and
scaled to [-1, 1] (``lpips_distance.py``). Offline profiles (``tiny``, ``full-random``) use a randomly
initialised AlexNet (``lpips_backbone: "random"``): those values exercise the code path but are not comparable
to the paper; real scores need ``models.profile=real`` (pretrained AlexNet).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import Field

from dalda.config import DaldaConfig, EvaluateConfig
from dalda.metrics.spec import GroupScorer, ImageLoader, MetricSettings
from dalda.settings import sized


class LpipsSettings(MetricSettings):
    enabled: bool = Field(
        True, description="Compute LPIPS diversity (mean pairwise distance, higher = more diverse)."
    )
    size: int = Field(
        256, ge=64, le=16_384, json_schema_extra=sized("px", 2048),
        description="Images are resized to size x size for LPIPS."
    )


class Lpips:
    name = "lpips"
    title = "LPIPS"
    kind = "diversity"
    higher_is_more_diverse = True
    settings_model = LpipsSettings
    result_settings = ("lpips_backbone",)
    pairs_with_source = False

    def recorded_settings(self, config: DaldaConfig, settings: LpipsSettings) -> dict[str, Any]:
        backbone = "alexnet" if config.models.profile == "real" else "random"
        return {"lpips_backbone": backbone, "lpips_size": settings.size}

    def load(self, config: DaldaConfig, settings: LpipsSettings) -> Any:
        from dalda.models.lpips import load_lpips

        return load_lpips(config.models)

    def group_scorer(
        self, model: Any, paths: Sequence[Path], load_image: ImageLoader, evaluate: EvaluateConfig,
        settings: LpipsSettings,
    ) -> GroupScorer:  # fmt: skip
        from dalda.metrics.lpips_distance import lpips_by_group

        return lambda pairs: lpips_by_group(model, paths, pairs, settings.size, evaluate.batch_size, load_image)
