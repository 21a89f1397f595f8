"""Real Guidance (He et al.), a baseline of the paper: SD img2img from each real image at one strength.

Rows are made as the DA-Fusion code base makes them: the base prompt with the class name (no prompt prefix,
no lambda), the ``strength`` setting for every image. They are sampled as that code base samples them
(:class:`~dalda.generators.settings.Img2ImgSettings`: PNDM, 50 steps, the pipeline's own defaults, and no
negative prompt; ``docs/protocol.md``), from SD v1.4 with ``sd-vae-ft-mse`` as DALDA's generator is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from pydantic import Field

from dalda.config import DaldaConfig, ModelsConfig
from dalda.generators.settings import Img2ImgSettings, sd_manifest_settings
from dalda.generators.spec import PlanInputs, Preparation, SourceImage
from dalda.artefacts import PlanRow
from dalda.rundir import RunDir
from dalda.protocol import protocol_choices

if TYPE_CHECKING:
    from dalda.generators.img2img import Img2ImgEngine


class RealGuidanceSettings(Img2ImgSettings):
    """The img2img baselines' sampler and Real Guidance's one strength."""

    strength: float = Field(0.5, gt=0.0, le=1.0, description="img2img strength of every image.")


class RealGuidanceGenerator:
    name = "real-guidance"
    title = "Real Guidance"
    uses_prompts = False
    uses_guidance = False
    settings_model: type[Img2ImgSettings] = RealGuidanceSettings

    def settings(self, config: DaldaConfig) -> Img2ImgSettings:
        """The resolved settings of this generator in ``config``."""
        return self.settings_model.of(config.generator)

    def subject(self, source: SourceImage) -> str:
        """What fills the base prompt's class slot."""
        return source.class_name

    def strength(self, settings: Any, inputs: PlanInputs) -> float:
        """The img2img strength of the next image."""
        return settings.strength

    def plan_rows(self, config: DaldaConfig, inputs: PlanInputs) -> list[PlanRow]:
        settings = self.settings(config)
        rows: list[PlanRow] = []
        for source in inputs.sources:
            prompt = config.prompts.base_template.format(self.subject(source))
            for m in range(config.plan.images_per_real):
                rows.append(
                    PlanRow(
                        row_id=len(rows),
                        m=m,
                        prompt=prompt,
                        ip_scale=None,
                        strength=self.strength(settings, inputs),
                        seed=inputs.streams.next_seed(),
                        generator=self.name,
                        **asdict(source),
                    )
                )
        return rows

    def manifest_settings(self, config: DaldaConfig) -> dict[str, Any]:
        return sd_manifest_settings(self.settings(config), config)

    def row_weight(self, row: PlanRow) -> float:
        if row.strength is None:
            raise ValueError(f"plan row {row.row_id} ({row.generator}) has no strength; re-run `dalda plan`")
        return row.strength

    def preparation(self, config: DaldaConfig, run: RunDir, rows: Sequence[PlanRow]) -> Preparation:
        """Nothing to do before generation."""
        return Preparation()

    def build(self, config: DaldaConfig, run: RunDir, models: ModelsConfig) -> Img2ImgEngine:
        from dalda.generators.img2img import Img2ImgEngine
        from dalda.models.sd import load_img2img_pipeline

        settings = self.settings(config)
        return Img2ImgEngine(load_img2img_pipeline(models, settings.checkpoints()), settings, config.generation, protocol_choices(config.train.protocol).resample)
