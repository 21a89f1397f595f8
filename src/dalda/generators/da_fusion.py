"""DA-Fusion (Trabucco et al.), a baseline of the paper: SD img2img with a learned token per class.

Before generation, textual inversion learns one token per class from the few shots (``class_tokens``, saved in
the run directory and reused); each class is one unit of the generator's ``Preparation``, so launched processes
learn different classes in parallel. Rows use that token in the base prompt, with a strength drawn per image from
``generator.da_fusion_strengths``. The textual-inversion settings join the manifest settings, so changing them
regenerates the images made with the old tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dalda.config import DaldaConfig, ModelsConfig
from dalda.generators.class_tokens import (
    TI_SETTINGS,
    class_fingerprints,
    ensure_class_tokens,
    load_class_tokens,
    shots_from_plan,
    token_is_fresh,
)
from dalda.generators.img2img import Img2ImgEngine
from dalda.generators.real_guidance import RealGuidanceGenerator
from dalda.generators.sd_checkpoints import sd_checkpoints
from dalda.generators.spec import PlanInputs, Preparation
from dalda.generators.textual_inversion import placeholder_token
from dalda.models.sd import load_img2img_pipeline
from dalda.artefacts import PlanRow
from dalda.generators.spec import SourceImage
from dalda.rundir import RunDir


class DAFusionGenerator(RealGuidanceGenerator):
    name = "da-fusion"
    title = "DA-Fusion"

    def subject(self, source: SourceImage) -> str:
        return placeholder_token(source.class_name)

    def strength(self, config: DaldaConfig, inputs: PlanInputs) -> float:
        return float(inputs.streams.weight.choice(config.generator.da_fusion_strengths))

    def manifest_settings(self, config: DaldaConfig) -> dict[str, Any]:
        return {**super().manifest_settings(config), **config.generator.model_dump(include=set(TI_SETTINGS))}

    def preparation(self, config: DaldaConfig, run: RunDir, rows: Sequence[PlanRow]) -> Preparation:
        """One unit per class: its token, learned unless the run directory holds a fresh one (a pipeline is
        loaded only by a process that has a token to learn)."""
        shots = shots_from_plan(rows)
        expected = class_fingerprints(config, shots)

        def is_done(class_name: str) -> bool:
            return token_is_fresh(run, class_name, expected[class_name])

        def make(class_names: Sequence[str], models: ModelsConfig) -> None:
            pipe = load_img2img_pipeline(models, sd_checkpoints(models))
            ensure_class_tokens(pipe, config, shots, run, only=class_names)

        return Preparation("DA-Fusion class token", tuple(shots.classes), is_done, make)

    def build(self, config: DaldaConfig, run: RunDir, models: ModelsConfig) -> Img2ImgEngine:
        pipe = load_img2img_pipeline(models, sd_checkpoints(models))
        load_class_tokens(pipe, run)
        return Img2ImgEngine(pipe, self.sampling(config))
