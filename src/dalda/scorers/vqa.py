"""A visual-question-answering model as an alignment scorer (``score.variant=vqa``): faithfulness by asking.

Each real image is asked "Is this {prompt}?" with ``score.template`` filled with its class (the default template
gives "Is this a photo of a {class}?"), and the value is the model's probability that the answer's first token
is "yes": the first step of the model's own answer decoding (``BlipForQuestionAnswering.generate``), over the
whole vocabulary, so it is in [0, 1]. The probability of "no" is stored beside it. This is the VQA-based
faithfulness measure the paper's limitations point to; unlike a CLIP score it does not compare against the other
classes, so it does not depend on the class list (only on the image and its own class name).

The model is the entry's ``model`` setting (``score.model`` / ``filter.model``, beside the choice;
``Salesforce/blip-vqa-base`` by default; any ``BlipForQuestionAnswering`` checkpoint with a BERT-style vocabulary
where "yes" is one token). The forward pass is in ``vqa_forward``, imported only when the scorer is loaded.

Default alpha 0.5: an image is Low when the model gives "yes" at most even odds, i.e. when it is not more likely
than not to confirm the class. Not tuned on the paper's datasets; ``guidance.alpha_quantile`` sets the threshold
from the dataset's own scores instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import Field

from dalda.config import ModelsConfig
from dalda.scorers.base import Measurer, ScorerSection
from dalda.settings import EntrySettings


class VqaSettings(EntrySettings):
    """The VQA model asked about each image."""

    model: str = Field(
        "Salesforce/blip-vqa-base",
        description="BLIP visual-question-answering checkpoint: Hub id or local folder with the same layout.",
    )


def vqa_identity(models: ModelsConfig, checkpoint: str) -> str:
    """Names the VQA weights (the cache key); random weights never pass for the real model."""
    if models.profile == "real":
        return f"vqa:{checkpoint}"
    return f"{models.profile}-random:vqa:{checkpoint}"


@dataclass(frozen=True)
class VqaScorer:
    name: str = "vqa"
    title: str = 'VQA p("yes")'
    default_alpha: float = 0.5
    """See the module docstring: "yes" at most even odds is Low."""
    settings_model: type[VqaSettings] = VqaSettings

    def identity(self, models: ModelsConfig, settings: VqaSettings) -> str:
        return vqa_identity(models, settings.model)

    def load(
        self, models: ModelsConfig, settings: VqaSettings, classes: list[str], template: str, section: ScorerSection
    ) -> Measurer:
        from dalda.scorers.vqa_forward import load_vqa_measurer

        return load_vqa_measurer(models, settings.model, f"{section}.model", classes, template)

    def value(self, measures: Mapping[str, float]) -> float:
        return min(max(measures["vqa_yes"], 0.0), 1.0)


VQA = VqaScorer()
