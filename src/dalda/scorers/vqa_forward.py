"""The forward pass of the VQA scorer (``vqa.py``): each image asked about its own class.

Kept apart from the scorer's entry so that looking the entry up (every command checks its config against the
registry) does not import torch or transformers.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from dalda.config import ModelsConfig
from dalda.models.blip_vqa import VqaBundle, load_vqa
from dalda.scorers.base import Measures


def vqa_question(template: str, class_name: str) -> str:
    """The question asked about an image of ``class_name``: "Is this " + the filled template + "?"."""
    return f"Is this {template.format(class_name)}?"


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


def load_vqa_measurer(
    models: ModelsConfig, checkpoint: str, field: str, classes: list[str], template: str
) -> VqaMeasurer:
    """Load the VQA model from ``checkpoint`` (set by the config field ``field``) with one question per class."""
    vqa = load_vqa(models, checkpoint, field)
    questions = [vqa_question(template, name) for name in classes]
    return VqaMeasurer(vqa, questions, vqa.token_id("yes"), vqa.token_id("no"))
