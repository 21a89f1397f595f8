"""What a λ sampler is: how the IP-Adapter weight λ of each synthetic image is drawn (paper Sec. 3.2).

λ decides how closely a synthetic image follows its real reference (1: the image prompt dominates; 0: the text
alone). A sampler is chosen by ``guidance.strategy`` and carries its own settings beside that key. The planning
stage binds it once per plan to what it may depend on (:class:`SamplingContext`: shots and the real images'
alignment scores) and draws every image's λ from the bound sampler; the score stage records each real image's
Low / High group under the bound threshold; the report draws the bound band (the interval λ is drawn from at
each score) behind the planned λ, and method labels name the sampler (``method_part``; a grid's method name is
read back through ``method_settings``), so no stage branches on a sampler's name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from dalda.settings import EntrySettings


@dataclass(frozen=True)
class SamplingContext:
    """What a sampler may depend on beyond its settings."""

    shots: int
    """Real images per class (AGS widens its normal with the shots)."""
    scores: Sequence[float] = ()
    """The alignment value of every scored real training image (a quantile threshold is taken over them)."""
    default_alpha: float = 0.3
    """The alignment scorer's own Low / High threshold (``AlignmentScorer.default_alpha``)."""


class BoundSampler(Protocol):
    """A sampler bound to one plan's context: draws λ and says where it draws from."""

    threshold: float | None
    """The Low / High alignment threshold α in use, None for a sampler that does not group images."""

    def draw(self, size: int, score: float | None, rng: np.random.Generator) -> np.ndarray:
        """``size`` λ values for the images made from one real image with alignment value ``score``."""
        ...

    def band(self, score: float) -> tuple[float, float]:
        """The interval λ is drawn from for a real image with this alignment value (low == high: one value)."""
        ...

    def centre(self, score: float) -> float:
        """Where the draws centre for this alignment value (AGS: the normal's μ), drawn by the report."""
        ...


class LambdaSampler(Protocol):
    """One entry of :data:`dalda.guidance.GUIDANCE`; ``guidance.strategy`` names it."""

    name: str
    title: str
    """How the report and method titles name the sampler ("AGS", "RS")."""
    settings_model: type[EntrySettings]
    needs_scores: bool
    """Whether it reads the real images' alignment scores (then the plan needs ``dalda score``)."""

    def method_part(self, settings: EntrySettings) -> str:
        """The sampler's part of a method label (``ags`` in ``llm-ags``, ``fixed-0.3`` in ``base-fixed-0.3``)."""
        ...

    def method_title(self, settings: EntrySettings) -> str:
        """The sampler's part of a method title ("AGS" in "LLM Prompt + AGS")."""
        ...

    def method_settings(self, part: str) -> dict[str, Any] | None:
        """What a method name's part means, the inverse of :meth:`method_part`: the settings values it names
        (``{}`` for ``ags``, ``{"fixed_scale": 0.3}`` for ``fixed-0.3``), None when ``part`` is not this
        sampler's. A grid naming ``llm-fixed-0.3`` is resolved through this (``dalda.methods``)."""
        ...

    def fixed_lambda(self, settings: EntrySettings) -> float | None:
        """The one λ every image gets under these settings, None when λ is drawn per image. Methods with a
        fixed λ are a sweep: they sort after the drawn ones, by λ, and the report plots them against it
        (Fig. 8)."""
        ...

    def bind(self, settings: EntrySettings, context: SamplingContext) -> BoundSampler:
        """The sampler with everything derived from the context resolved (e.g. a quantile threshold)."""
        ...
