"""Real Guidance (He et al.), a baseline of the paper: SD img2img from each real image at one strength.

Rows are made as the DA-Fusion code base makes them: the base prompt with the class name (no prompt prefix,
no lambda), ``generator.strength`` for every image. They are sampled as that code base samples them: with
``generator.scheduler`` and ``generator.steps`` (default PNDM, 50 steps, the pipeline's own defaults) instead of
``generation.scheduler`` / ``generation.steps``, and no negative prompt unless ``generation.negative_prompt``
sets one (``docs/protocol.md``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from dalda.config import DaldaConfig, GenerationConfig, ModelsConfig
from dalda.generators.img2img import Img2ImgEngine
from dalda.generators.sd_checkpoints import sd_checkpoints
from dalda.generators.settings import GenerationSettings
from dalda.generators.spec import PlanInputs, Preparation
from dalda.models.sd import load_img2img_pipeline
from dalda.artefacts import PlanRow
from dalda.generators.spec import SourceImage
from dalda.rundir import RunDir


class RealGuidanceGenerator:
    name = "real-guidance"
    title = "Real Guidance"
    uses_prompts = False
    uses_guidance = False
    default_negative_prompt = ""

    def sampling(self, config: DaldaConfig) -> GenerationConfig:
        """``generation`` with the baseline's scheduler, steps and resolved negative prompt."""
        negative = config.generation.negative_prompt
        return config.generation.model_copy(
            update={
                "scheduler": config.generator.scheduler,
                "steps": config.generator.steps,
                "negative_prompt": self.default_negative_prompt if negative is None else negative,
            }
        )

    def subject(self, source: SourceImage) -> str:
        """What fills the base prompt's class slot."""
        return source.class_name

    def strength(self, config: DaldaConfig, inputs: PlanInputs) -> float:
        """The img2img strength of the next image."""
        return config.generator.strength

    def plan_rows(self, config: DaldaConfig, inputs: PlanInputs) -> list[PlanRow]:
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
                        strength=self.strength(config, inputs),
                        seed=inputs.streams.next_seed(),
                        generator=self.name,
                        **asdict(source),
                    )
                )
        return rows

    def manifest_settings(self, config: DaldaConfig) -> dict[str, Any]:
        return asdict(GenerationSettings.from_config(config, self.sampling(config)))

    def row_weight(self, row: PlanRow) -> float:
        if row.strength is None:
            raise ValueError(f"plan row {row.row_id} ({row.generator}) has no strength; re-run `dalda plan`")
        return row.strength

    def preparation(self, config: DaldaConfig, run: RunDir, rows: Sequence[PlanRow]) -> Preparation:
        """Nothing to do before generation."""
        return Preparation()

    def build(self, config: DaldaConfig, run: RunDir, models: ModelsConfig) -> Img2ImgEngine:
        return Img2ImgEngine(load_img2img_pipeline(models, sd_checkpoints(models)), self.sampling(config))
