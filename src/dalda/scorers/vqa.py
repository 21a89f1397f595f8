"""A visual-question-answering model as an alignment scorer (``score.variant=vqa``): faithfulness by asking.

Each real image is asked "Is this {prompt}?" with ``score.template`` filled with its class (the default template
gives "Is this a photo of a {class}?"), and the value is the model's probability that the answer's first token
is "yes": the first step of the model's own answer decoding (``BlipForQuestionAnswering.generate``), over the
whole vocabulary, so it is in [0, 1]. The probability of "no" is stored beside it. This is the VQA-based
faithfulness measure the paper's limitations point to; unlike a CLIP score it does not compare against the other
classes, so it does not depend on the class list (only on the image and its own class name).

The model is ``models.vqa_model`` (``Salesforce/blip-vqa-base`` by default; any ``BlipForQuestionAnswering``
checkpoint with a BERT-style vocabulary where "yes" is one token).

Default alpha 0.5: an image is Low when the model gives "yes" at most even odds, i.e. when it is not more likely
than not to confirm the class. Not tuned on the paper's datasets; ``guidance.alpha_quantile`` sets the threshold
from the dataset's own scores instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from PIL import Image

from dalda.config import ModelsConfig
from dalda.models.blip_vqa import VqaBundle, load_vqa
from dalda.scorers.base import Measurer, Measures


def vqa_question(template: str, class_name: str) -> str:
    """The question asked about an image of ``class_name``: "Is this " + the filled template + "?"."""
    return f"Is this {template.format(class_name)}?"


def vqa_model_identity(models: ModelsConfig) -> str:
    """Names the VQA weights; random weights never pass for the real model."""
    if models.profile == "real":
        return f"vqa:{models.vqa_model}"
    return f"{models.profile}-random:vqa:{models.vqa_model}"


@dataclass(frozen=True)
class VqaMeasurer:
    """The VQA model bound to one question per class; measures p("yes") and p("no") of the first answer token."""

    vqa: VqaBundle
    questions: list[str]
    yes: int
    no: int

    def __call__(self, images: list[Image.Image], labels: list[int]) -> list[Measures]:
        # One forward pass per class: its images share one question, so no question is padded. Padding would
        # change the answer, because BLIP's answer decoder attends to every question token whatever the mask
        # says (transformers 5.24).
        measures: list[Measures | None] = [None] * len(images)
        for label in sorted(set(labels)):
            rows = [row for row, other in enumerate(labels) if other == label]
            distribution = self.vqa.first_answer_distribution(
                [images[row] for row in rows], [self.questions[label]] * len(rows)
            )
            for row, probabilities in zip(rows, distribution, strict=True):
                measures[row] = {"vqa_yes": float(probabilities[self.yes]), "vqa_no": float(probabilities[self.no])}
        return [measure for measure in measures if measure is not None]


@dataclass(frozen=True)
class VqaScorer:
    name: str = "vqa"
    title: str = 'VQA p("yes")'
    default_alpha: float = 0.5
    """See the module docstring: "yes" at most even odds is Low."""

    def identity(self, models: ModelsConfig) -> str:
        return vqa_model_identity(models)

    def load(self, models: ModelsConfig, classes: list[str], template: str) -> Measurer:
        vqa = load_vqa(models, models.vqa_model, "models.vqa_model")
        questions = [vqa_question(template, name) for name in classes]
        return VqaMeasurer(vqa, questions, vqa.token_id("yes"), vqa.token_id("no"))

    def value(self, measures: Mapping[str, float]) -> float:
        return min(max(measures["vqa_yes"], 0.0), 1.0)


VQA = VqaScorer()
