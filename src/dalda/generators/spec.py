"""What a generator is: the :class:`Generator` spec the stages call, and the :class:`Engine` it builds.

A generator decides two things: the rows of the plan (which prompt, which per-image weight, which seed for
every synthetic image, given the real training images) and how those rows become pixels (an engine built
from loaded models). The planning and generation stages call nothing else, so a new generator is one module
implementing this protocol plus one ``GENERATORS.register`` call (``dalda.generators``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from PIL import Image

from dalda.config import DaldaConfig, ModelsConfig
from dalda.artefacts import PlanRow
from dalda.rundir import RunDir

SEED_LIMIT = 2**31 - 1

LambdaDraw = Callable[[int, float | None], np.ndarray]
"""``draw(size, clipscore)``: ``size`` guidance weights for the images of one real image, drawn by the
configured ``guidance.strategy`` from the plan's weight stream (the planning stage builds it)."""


@dataclass(frozen=True)
class SourceImage:
    """One real training image as the plan stage hands it to a generator: the fields its rows share."""

    class_name: str
    label: int
    source_path: str
    source_index: int
    """Index of the real image in the split's training list; groups the M images made from it."""
    clipscore: float | None
    group: str | None
    """"high" or "low": the image's alignment group under threshold alpha; None when the run has no scores."""
    scorer: str | None = None
    """The alignment scorer (``score.variant``) whose value is ``clipscore``; None when the run has no scores."""


@dataclass(frozen=True)
class PlanStreams:
    """The plan's three independent random streams, spawned from the trial's seed (``dalda.seeds.trial_seed``).

    Changing how one stream is used (e.g. the lambda strategy) leaves the others untouched, so a fixed-lambda
    sweep differs only in lambda and keeps the prompt assignment and the image seeds.
    """

    prompt: np.random.Generator
    """Orders each class's prompts."""
    weight: np.random.Generator
    """Draws the per-image weight (IP-Adapter lambda, img2img strength)."""
    seed: np.random.Generator
    """Draws each image's own seed."""

    @classmethod
    def from_seed(cls, seed: int) -> PlanStreams:
        prompt, weight, image_seed = np.random.SeedSequence(seed).spawn(3)
        return cls(np.random.default_rng(prompt), np.random.default_rng(weight), np.random.default_rng(image_seed))

    def next_seed(self) -> int:
        """The seed of the next image."""
        return int(self.seed.integers(0, SEED_LIMIT))


@dataclass(frozen=True)
class PlanInputs:
    """What the plan stage hands a generator to plan from."""

    classes: list[str]
    """The split's classes, in label order."""
    sources: list[SourceImage]
    """One per real training image, in split order."""
    prompts: dict[str, list[str]]
    """Prompts per class: the run's prompts when the generator ``uses_prompts``, else the base prompt."""
    streams: PlanStreams
    draw_lambdas: LambdaDraw


def _always_done(unit: str) -> bool:
    return True


def _make_nothing(units: Sequence[str], models: ModelsConfig) -> None:
    return None


@dataclass(frozen=True)
class Preparation:
    """One-off work a generator needs before generation (e.g. DA-Fusion's class tokens), split into independent
    units so several launched processes can each make a share and no process waits at a collective meanwhile.

    ``make(units, models)`` makes the given units on the device ``models`` names, saving each unit's output
    atomically as soon as it is finished; ``is_done(unit)`` says whether a unit's output is on disk and was made
    from the current inputs (any process may ask, at any time). A unit's result must not depend on which other
    units the same call makes, so sharing them out gives what one process would make.
    """

    what: str = "preparation"
    """What one unit makes, for log lines and errors (e.g. "DA-Fusion class token")."""
    units: tuple[str, ...] = ()
    is_done: Callable[[str], bool] = _always_done
    make: Callable[[Sequence[str], ModelsConfig], None] = _make_nothing

    def pending(self) -> list[str]:
        """The units whose output is missing or stale."""
        return [unit for unit in self.units if not self.is_done(unit)]

    def make_pending(self, models: ModelsConfig) -> None:
        """Make every pending unit here, in this one process."""
        pending = self.pending()
        if pending:
            self.make(pending, models)


class Engine(Protocol):
    """Turns batches of plan rows into images; built once per process by :meth:`Generator.build`."""

    @property
    def tokenizer(self) -> Any:
        """The text tokenizer (the generation stage counts prompts longer than its context)."""

    def encode_references(self, images: Sequence[Image.Image]) -> Sequence[Any]:
        """Prepare real reference images once; the results are passed back to :meth:`generate` per row."""

    def generate(
        self, prompts: Sequence[str], weights: Sequence[float], seeds: Sequence[int], references: Sequence[Any]
    ) -> Sequence[Image.Image]:
        """One image per row; an image depends only on its row, never on the batch around it."""


class Generator(Protocol):
    """One way of making synthetic images, complete: planning, manifest settings, preparation, engine.

    A generator with knobs (checkpoints, sampler, strengths) declares them as its ``settings_model``, a
    ``dalda.settings.EntrySettings`` subclass holding its own defaults; they sit beside ``generator.name`` in
    the config, ``dalda.configure`` resolves them, and the generator reads them with
    ``TheirSettings.of(config.generator)``. The built-in Stable Diffusion ones share the models of
    ``dalda.generators.settings``.
    """

    name: str
    """The ``generator.name`` that selects it; also stored in every plan row and manifest line."""
    title: str
    """How the paper's tables name it."""
    uses_prompts: bool
    """Whether the run's prompts (``prompts.source``) apply; if not, the plan stage passes the base prompt."""
    uses_guidance: bool
    """Whether rows carry a guidance weight lambda (``ip_scale``): AGS then needs CLIPScores, and the report
    plots the lambda distribution."""

    def plan_rows(self, config: DaldaConfig, inputs: PlanInputs) -> list[PlanRow]:
        """``plan.images_per_real`` rows per source image, in source order, ``row_id`` counting from 0."""

    def manifest_settings(self, config: DaldaConfig) -> dict[str, Any]:
        """The settings that decide an image's pixels besides its row (its own resolved settings, and what else
        of ``config`` changes its images); a change invalidates finished images."""

    def row_weight(self, row: PlanRow) -> float:
        """The per-row number the engine takes (lambda, strength, ...)."""

    def preparation(self, config: DaldaConfig, run: RunDir, rows: Sequence[PlanRow]) -> Preparation:
        """The work to finish once per run before any engine is built (``Preparation()``: none), in units the
        launched processes share out (the generation stage makes each unit once, on one process)."""

    def build(self, config: DaldaConfig, run: RunDir, models: ModelsConfig) -> Engine:
        """The engine of this process, on the device ``models`` names (import heavy modules here, not at the top
        of the entry's module, so that looking a generator up stays cheap)."""
