"""DALDA's generator: Stable Diffusion + IP-Adapter with a guidance weight lambda per image (paper Sec. 3).

Planning: each class's prompts are shuffled once and cycled over that class's images, so the M images of one
real image use M different prompts whenever the class has at least M prompts (the authors' scheme); every
image gets the run's prompt prefix and a lambda from the configured guidance strategy. An unset
``generation.negative_prompt`` becomes IP-Adapter's own default, the one the paper's authors generated with.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from dalda.config import DaldaConfig, GenerationConfig, ModelsConfig
from dalda.generators.ip_adapter_engine import GenerationEngine
from dalda.generators.settings import GenerationSettings
from dalda.generators.spec import PlanInputs, Preparation
from dalda.generators.sd_checkpoints import sd_checkpoints
from dalda.models.sd import load_sd_ip_adapter_pipeline
from dalda.artefacts import PlanRow
from dalda.rundir import RunDir


IP_ADAPTER_NEGATIVE_PROMPT = "monochrome, lowres, bad anatomy, worst quality, low quality"
"""The default negative prompt of IP-Adapter's own ``generate``, which made every image of the paper's authors."""


class IPAdapterGenerator:
    name = "ip-adapter"
    title = "SD + IP-Adapter"
    uses_prompts = True
    uses_guidance = True
    default_negative_prompt = IP_ADAPTER_NEGATIVE_PROMPT

    def sampling(self, config: DaldaConfig) -> GenerationConfig:
        """``generation`` with the negative prompt resolved (unset: :data:`IP_ADAPTER_NEGATIVE_PROMPT`)."""
        negative = config.generation.negative_prompt
        return config.generation.model_copy(
            update={"negative_prompt": self.default_negative_prompt if negative is None else negative}
        )

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
        return asdict(GenerationSettings.from_config(config, self.sampling(config)))

    def row_weight(self, row: PlanRow) -> float:
        if row.ip_scale is None:
            raise ValueError(f"plan row {row.row_id} ({row.generator}) has no lambda; re-run `dalda plan`")
        return row.ip_scale

    def preparation(self, config: DaldaConfig, run: RunDir, rows: Sequence[PlanRow]) -> Preparation:
        """Nothing to do before generation."""
        return Preparation()

    def build(self, config: DaldaConfig, run: RunDir, models: ModelsConfig) -> GenerationEngine:
        return GenerationEngine(load_sd_ip_adapter_pipeline(models, sd_checkpoints(models)), self.sampling(config))
