"""Class-adaptive budget (beyond the paper): more synthetic images for the classes the real images teach worst.

The total stays the uniform plan's. A class's share is its number of real images times ``floor + difficulty``,
where difficulty is one minus the mean probability the real-only reference gives the true class of a real image
it did not see: a nearest-class-mean classifier on the run's CLIP image embeddings (``models.clip_model``, the
features the paper's CLIP linear probe trains on), with CLIP's own temperature. Each image is held out in turn:

- a class with two or more shots: leave one out (the image's class mean is taken over the class's other images);
- a class with one shot: cross-view (the class mean is the image's own embedding, and the image is classified
  from a second view of it, mirrored and centre-cropped to 80 %), so difficulty is how easily a changed view of
  the class's only image is confused with another class. This is a weaker estimate than leave-one-out, which is
  why ``floor`` keeps every class a share.

Only the few-shot pool is read; evaluation images never decide a budget (``docs/protocol.md``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageOps
from pydantic import Field

from dalda.budgets.spec import TrainImage, per_image, spread
from dalda.config import ModelsConfig
from dalda.images import load_rgb
from dalda.settings import EntrySettings

if TYPE_CHECKING:
    import torch

CROSS_VIEW_CROP = 0.8
"""The side of the centre crop (a fraction of the image) of a one-shot class's second view."""


class AdaptiveSettings(EntrySettings):
    floor: float = Field(
        0.25,
        ge=0.0,
        le=100.0,
        description="plan.budget=adaptive: the share every class keeps whatever its difficulty (a class's weight "
        "is its real images times floor + difficulty, difficulty in [0, 1]); 0 lets an easy class get nothing.",
    )


def second_view(image: Image.Image) -> Image.Image:
    """The held-out view of a one-shot class's image: mirrored, centre-cropped to :data:`CROSS_VIEW_CROP`."""
    width, height = image.size
    left, top = round(width * (1 - CROSS_VIEW_CROP) / 2), round(height * (1 - CROSS_VIEW_CROP) / 2)
    return ImageOps.mirror(image).crop((left, top, width - left, height - top))


def held_out_difficulty(
    features: torch.Tensor, views: torch.Tensor, labels: Sequence[int], temperature: float
) -> np.ndarray:
    """Per class, one minus the mean held-out probability of the true class (module docstring).

    ``features`` and ``views``: (N, D) unit embeddings of the images and of their second views, in ``labels``'
    order; a class with several images uses leave-one-out and ignores ``views``.
    """
    import torch  # the budget entry is registered at every start; torch loads only when a plan needs it

    label_tensor = torch.as_tensor(list(labels))
    classes = int(label_tensor.max()) + 1
    sums = torch.zeros(classes, features.shape[1]).index_add_(0, label_tensor, features)
    sizes = torch.bincount(label_tensor, minlength=classes)
    true_probability = torch.zeros(len(labels))
    for index, label in enumerate(labels):
        means = sums.clone()
        query = features[index]
        if sizes[label] > 1:
            means[label] -= features[index]
        else:
            query = views[index]
        logits = temperature * (torch.nn.functional.normalize(means, dim=-1) @ query)
        logits[sizes == 0] = float("-inf")
        true_probability[index] = logits.softmax(dim=0)[label]
    difficulty = np.zeros(classes)
    for label in range(classes):
        members = label_tensor == label
        if members.any():
            difficulty[label] = 1.0 - float(true_probability[members].mean())
    return difficulty


def class_budgets(total: int, labels: Sequence[int], difficulty: np.ndarray, floor: float) -> list[int]:
    """``total`` over classes, weighted by real images times ``floor + difficulty``."""
    sizes = np.bincount(np.asarray(labels), minlength=len(difficulty))
    return spread(total, sizes * (floor + difficulty))


@dataclass(frozen=True)
class AdaptiveBudget:
    name: str = "adaptive"
    settings_model: type[AdaptiveSettings] = AdaptiveSettings

    def counts(
        self, settings: EntrySettings, train: Sequence[TrainImage], images_per_real: int, models: ModelsConfig
    ) -> list[int]:
        from dalda.models.clip import load_clip

        assert isinstance(settings, AdaptiveSettings)
        labels = [record.label for record in train]
        clip = load_clip(models)
        images = [load_rgb(record.path) for record in train]
        features = clip.encode_images(images)
        views = clip.encode_images([second_view(image) for image in images])
        difficulty = held_out_difficulty(features, views, labels, clip.logit_scale)
        budgets = class_budgets(images_per_real * len(train), labels, difficulty, settings.floor)
        return per_image(budgets, labels)


ADAPTIVE = AdaptiveBudget()
