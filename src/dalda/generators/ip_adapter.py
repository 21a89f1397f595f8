"""DALDA's generator: Stable Diffusion + IP-Adapter with a guidance weight lambda per image (paper Sec. 3).

Planning: each class's prompts are shuffled once and cycled over that class's images, so the M images of one
real image use M different prompts whenever the class has at least M prompts (the authors' scheme); every
image gets the run's prompt prefix and a lambda from the configured guidance strategy. Its settings
(:class:`~dalda.generators.settings.IPAdapterSettings`) default to the authors' set-up: SD v1.4 with
``sd-vae-ft-mse``, h94/IP-Adapter ``models/ip-adapter_sd15.bin``, DDIM 30 steps, guidance 7.5, 512 px and
IP-Adapter's own negative prompt. The engine and the model loaders are imported when an engine is built, so
importing the entry costs no torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from dalda.config import DaldaConfig, ModelsConfig
from dalda.generators.settings import IPAdapterSettings, sd_manifest_settings
from dalda.generators.spec import PlanInputs, Preparation
from dalda.artefacts import PlanRow
from dalda.rundir import RunDir
from dalda.protocol import protocol_choices

if TYPE_CHECKING:
    from dalda.generators.ip_adapter_engine import GenerationEngine


class IPAdapterGenerator:
    name = "ip-adapter"
    title = "SD + IP-Adapter"
    uses_prompts = True
    uses_guidance = True
    settings_model: type[IPAdapterSettings] = IPAdapterSettings

    def settings(self, config: DaldaConfig) -> IPAdapterSettings:
        """The resolved settings of this generator in ``config``."""
        return self.settings_model.of(config.generator)

    def plan_rows(self, config: DaldaConfig, inputs: PlanInputs) -> list[PlanRow]:
        per_image = config.plan.images_per_real
        prompts = inputs.prompts
        order = {name: inputs.streams.prompt.permutation(len(prompts[name])) for name in inputs.classes}
        images_seen = {name: 0 for name in inputs.classes}
        rows: list[PlanRow] = []
        for source in inputs.sources:
            class_name = source.class_name
            lambdas = inputs.draw_lambdas(per_image, source.clipscore)
            class_prompts, permutation = prompts[class_name], order[class_name]
            start = images_seen[class_name] * per_image
            images_seen[class_name] += 1
            for m in range(per_image):
                text = class_prompts[permutation[(start + m) % len(class_prompts)]]
                rows.append(
                    PlanRow(
                        row_id=len(rows),
                        m=m,
                        prompt=config.prompts.prefix + text,
                        ip_scale=float(lambdas[m]),
                        seed=inputs.streams.next_seed(),
                        generator=self.name,
                        **asdict(source),
                    )
                )
        return rows

    def manifest_settings(self, config: DaldaConfig) -> dict[str, Any]:
        return sd_manifest_settings(self.settings(config), config)

    def row_weight(self, row: PlanRow) -> float:
        if row.ip_scale is None:
            raise ValueError(f"plan row {row.row_id} ({row.generator}) has no lambda; re-run `dalda plan`")
        return row.ip_scale

    def preparation(self, config: DaldaConfig, run: RunDir, rows: Sequence[PlanRow]) -> Preparation:
        """Nothing to do before generation."""
        return Preparation()

    def load_pipeline(self, models: ModelsConfig, settings: IPAdapterSettings) -> Any:
        """The SD 1.x + IP-Adapter pipeline of ``settings``' checkpoints."""
        from dalda.models.sd import load_sd_ip_adapter_pipeline

        return load_sd_ip_adapter_pipeline(models, settings.checkpoints())

    def build(self, config: DaldaConfig, run: RunDir, models: ModelsConfig) -> GenerationEngine:
        from dalda.generators.ip_adapter_engine import GenerationEngine

        settings = self.settings(config)
        return GenerationEngine(self.load_pipeline(models, settings), settings, config.generation, protocol_choices(config.train.protocol).resample)
