"""DA-Fusion (Trabucco et al.), a baseline of the paper: SD img2img with a learned token per class.

Before generation, textual inversion learns one token per class from the few shots (``class_tokens``, saved in
the run directory and reused); each class is one unit of the generator's ``Preparation``, so launched processes
learn different classes in parallel. Rows use that token in the base prompt, with a strength drawn per image from
the ``strengths`` setting. Its settings (:class:`DAFusionSettings`) are the img2img baselines' sampler plus the
textual-inversion ones, which join the manifest settings, so changing them regenerates the images made with the
old tokens. The pipeline and the textual-inversion code are imported when they are needed, so importing the
entry costs no torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator

from dalda.config import DaldaConfig, ModelsConfig
from dalda.generators.placeholder_tokens import placeholder_token
from dalda.generators.real_guidance import RealGuidanceGenerator
from dalda.generators.settings import TI_SETTINGS, Img2ImgSettings, TextualInversionSettings
from dalda.generators.spec import PlanInputs, Preparation, SourceImage
from dalda.artefacts import PlanRow
from dalda.rundir import RunDir
from dalda.protocol import protocol_choices

if TYPE_CHECKING:
    from dalda.generators.img2img import Img2ImgEngine


class DAFusionSettings(TextualInversionSettings):
    """The img2img baselines' sampler, DA-Fusion's textual inversion and its strengths."""

    strengths: list[float] = Field(
        default_factory=lambda: [0.25, 0.5, 0.75, 1.0], description="img2img strength drawn per image from these."
    )

    @field_validator("strengths")
    @classmethod
    def _strengths_in_range(cls, values: list[float]) -> list[float]:
        if not values or not all(0.0 < value <= 1.0 for value in values):
            raise ValueError(f"generator.strengths={values} must be a non-empty list of values in (0, 1]")
        return values


class DAFusionGenerator(RealGuidanceGenerator):
    name = "da-fusion"
    title = "DA-Fusion"
    settings_model: type[Img2ImgSettings] = DAFusionSettings

    def settings(self, config: DaldaConfig) -> DAFusionSettings:
        return DAFusionSettings.of(config.generator)

    def subject(self, source: SourceImage) -> str:
        return placeholder_token(source.class_name)

    def strength(self, settings: Any, inputs: PlanInputs) -> float:
        return float(inputs.streams.weight.choice(settings.strengths))

    def manifest_settings(self, config: DaldaConfig) -> dict[str, Any]:
        recorded = self.settings(config).model_dump(include=set(TI_SETTINGS))
        return {**super().manifest_settings(config), **recorded}

    def preparation(self, config: DaldaConfig, run: RunDir, rows: Sequence[PlanRow]) -> Preparation:
        """One unit per class: its token, learned unless the run directory holds a fresh one (a pipeline is
        loaded only by a process that has a token to learn)."""
        from dalda.generators.class_tokens import class_fingerprints, shots_from_plan, token_is_fresh

        settings = self.settings(config)
        shots = shots_from_plan(rows)
        expected = class_fingerprints(config, settings, shots)

        def is_done(class_name: str) -> bool:
            return token_is_fresh(run, class_name, expected[class_name])

        def make(class_names: Sequence[str], models: ModelsConfig) -> None:
            from dalda.generators.class_tokens import ensure_class_tokens
            from dalda.models.sd import load_img2img_pipeline

            pipe = load_img2img_pipeline(models, settings.checkpoints())
            ensure_class_tokens(pipe, config, settings, shots, run, only=class_names)

        return Preparation("DA-Fusion class token", tuple(shots.classes), is_done, make)

    def build(self, config: DaldaConfig, run: RunDir, models: ModelsConfig) -> Img2ImgEngine:
        from dalda.generators.class_tokens import load_class_tokens
        from dalda.generators.img2img import Img2ImgEngine
        from dalda.models.sd import load_img2img_pipeline

        settings = self.settings(config)
        pipe = load_img2img_pipeline(models, settings.checkpoints())
        load_class_tokens(pipe, run)
        return Img2ImgEngine(pipe, settings, config.generation, protocol_choices(config.train.protocol).resample)
