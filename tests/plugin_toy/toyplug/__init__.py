"""A toy dalda plugin, as a pip-installable package would ship it: a generator, an alignment scorer and a λ
sampler, each with its own settings, found by dalda through entry points (``entry_points.txt`` in the
distribution's metadata). ``tests/test_plugins.py`` installs it by putting this folder and a ``.dist-info`` on
``PYTHONPATH``; nothing in dalda names it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from types import SimpleNamespace

import numpy as np
from PIL import Image
from pydantic import Field

from dalda.artefacts import PlanRow
from dalda.generators.spec import Preparation
from dalda.settings import EntrySettings


def colour(seed: int, weight: float) -> tuple[int, int, int]:
    """The toy engine's whole output: one colour from the row's seed and λ."""
    return (seed % 256, (seed // 256) % 256, round(weight * 255))


class _WordTokenizer:
    model_max_length = 77

    def __call__(self, text: str, truncation: bool = False) -> SimpleNamespace:
        return SimpleNamespace(input_ids=text.split())


class SolidEngine:
    tokenizer = _WordTokenizer()

    def __init__(self, size: int) -> None:
        self.size = size

    def encode_references(self, images):
        return [None for _ in images]

    def generate(self, prompts, weights, seeds, references):
        return [Image.new("RGB", (self.size, self.size), colour(s, w)) for s, w in zip(seeds, weights)]


class SolidSettings(EntrySettings):
    size: int = Field(16, ge=1, le=4096, description="Side of every image, in pixels.")


class SolidGenerator:
    """Takes λ (so the λ methods and samplers apply) and uses the run's prompts."""

    name = "toy-solid"
    title = "Toy solid colour"
    uses_prompts = True
    uses_guidance = True
    settings_model = SolidSettings

    def plan_rows(self, config, inputs) -> list[PlanRow]:
        rows = []
        for source in inputs.sources:
            lambdas = inputs.draw_lambdas(config.plan.images_per_real, source.clipscore)
            for m in range(config.plan.images_per_real):
                prompt = inputs.prompts[source.class_name][m % len(inputs.prompts[source.class_name])]
                rows.append(PlanRow(row_id=len(rows), m=m, prompt=prompt, ip_scale=float(lambdas[m]),
                                    seed=inputs.streams.next_seed(), generator=self.name, **asdict(source)))
        return rows

    def manifest_settings(self, config) -> dict:
        return {"size": SolidSettings.of(config.generator).size}

    def row_weight(self, row: PlanRow) -> float:
        return row.ip_scale

    def preparation(self, config, run, rows) -> Preparation:
        return Preparation()

    def build(self, config, run, models) -> SolidEngine:
        return SolidEngine(SolidSettings.of(config.generator).size)


@dataclass(frozen=True)
class BrightnessScorer:
    """Mean brightness as the alignment value: a scorer with no model."""

    name: str = "toy-bright"
    title: str = "mean brightness"
    default_alpha: float = 0.5

    def identity(self, models, settings) -> str:
        return "toy-brightness-v1"

    def load(self, models, settings, classes, template, section):
        return lambda images, labels: [{"brightness": float(np.asarray(image).mean() / 255)} for image in images]

    def value(self, measures) -> float:
        return measures["brightness"]


class ConstantSettings(EntrySettings):
    value: float = Field(0.25, ge=0.0, le=1.0, description="The λ of every image.")


@dataclass(frozen=True)
class BoundConstant:
    settings: ConstantSettings
    threshold: None = None

    def draw(self, size, score, rng):
        return np.full(size, self.settings.value)

    def band(self, score):
        return self.settings.value, self.settings.value

    def centre(self, score):
        return self.settings.value


@dataclass(frozen=True)
class ConstantSampler:
    name: str = "toy-constant"
    title: str = "constant λ"
    settings_model: type[ConstantSettings] = ConstantSettings
    needs_scores: bool = False

    def method_part(self, settings: ConstantSettings) -> str:
        return f"const-{settings.value:g}"

    def method_title(self, settings: ConstantSettings) -> str:
        return f"λ≡{settings.value:g}"

    def method_settings(self, part: str) -> dict | None:
        value = part.removeprefix("const-")
        try:
            return None if value == part else {"value": float(value)}
        except ValueError:
            return None

    def fixed_lambda(self, settings: ConstantSettings) -> float | None:
        return settings.value

    def bind(self, settings: ConstantSettings, context) -> BoundConstant:
        return BoundConstant(settings)
