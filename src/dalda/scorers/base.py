"""What an alignment scorer is: the number AGS reads to decide how far a synthetic image may stray from its source.

A scorer measures each real training image against the class list with some model (one forward pass, several
numbers per image, e.g. CLIP's softmax probability and cosine) and derives from those numbers one value in
[0, 1]: how well the image shows its class. The measurements are what ``scores.jsonl`` stores, so scorers that
share a model (the CLIP ones) share the cache and switching between them needs no recomputation.

A scorer is chosen in two sections, each with the scorer's own settings beside the choice: ``score:``
(``score.variant``, the real images AGS reads) and ``filter:`` (``filter.scorer``, the synthetic images the
filter stage judges). :func:`chosen_scorer` pairs the entry with the settings of the section that chose it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

from PIL import Image

from dalda.config import DaldaConfig, ModelsConfig
from dalda.registry import Registry
from dalda.settings import EntrySettings

Measures = dict[str, float]
"""The numbers one forward pass gives for one image, by name (stored as fields of its ``scores.jsonl`` line)."""

TOP_LABEL = "top_label"
"""Optional measure: the class index the scorer's model ranks first for the image (scorers that compare the
image with every class prompt give it; the filter stage rejects images whose top class is not their own)."""

Measurer = Callable[[list[Image.Image], list[int]], list[Measures]]
"""A loaded scorer bound to the class list: (RGB images, their labels) -> one :data:`Measures` per image."""

ScorerSection = Literal["score", "filter"]
"""The config sections that choose a scorer; its settings sit in the one that chose it."""


class AlignmentScorer(Protocol):
    """One entry of :data:`SCORERS`; ``score.variant`` and ``filter.scorer`` name it."""

    name: str
    title: str
    """Shown on the score histogram ("CLIPScore (softmax)")."""
    default_alpha: float
    """The Low / High threshold used when the config does not set ``guidance.alpha``."""
    settings_model: type[EntrySettings]
    """Its own settings (``dalda.settings``), e.g. the checkpoint it loads; an entry without the attribute has
    none."""

    def identity(self, models: ModelsConfig, settings: EntrySettings) -> str:
        """Names the model the measurements come from, its checkpoint included (part of the cache key of
        ``scores.jsonl`` and ``filter.jsonl``; stored as ``clip_model`` / ``scorer_model``).

        Scorers that derive their value from the same measurements return the same identity.
        """
        ...

    def load(
        self, models: ModelsConfig, settings: EntrySettings, classes: list[str], template: str, section: ScorerSection
    ) -> Measurer:
        """Load the model and bind it to the class prompts (``template`` filled with each class name).

        Import heavy model code here, not at module level: every command checks its config against the registry.
        ``section`` is where the settings came from, so a load error names the field to change (``score.model``).
        """
        ...

    def value(self, measures: Mapping[str, float]) -> float:
        """The image's alignment value in [0, 1], from its stored measurements."""
        ...


SCORERS: Registry[AlignmentScorer] = Registry("alignment scorer", setting="score.variant", group="dalda.scorers")


@dataclass(frozen=True)
class ChosenScorer:
    """A scorer with the settings of the config section that chose it: what the score and filter stages run."""

    entry: AlignmentScorer
    settings: EntrySettings
    section: ScorerSection

    @property
    def title(self) -> str:
        return self.entry.title

    @property
    def default_alpha(self) -> float:
        return self.entry.default_alpha

    def identity(self, models: ModelsConfig) -> str:
        return self.entry.identity(models, self.settings)

    def load(self, models: ModelsConfig, classes: list[str], template: str) -> Measurer:
        return self.entry.load(models, self.settings, classes, template, self.section)

    def value(self, measures: Mapping[str, float]) -> float:
        return self.entry.value(measures)


def chosen_scorer(config: DaldaConfig, section: ScorerSection) -> ChosenScorer:
    """The scorer ``section`` chooses (``score.variant`` or ``filter.scorer``) with that section's settings."""
    values = getattr(config, section)
    name = getattr(values, values.choice)
    return ChosenScorer(SCORERS.get(name), SCORERS.settings_model(name).of(values), section)
