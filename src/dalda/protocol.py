"""The small choices outside the probes that ``train.protocol`` decides, each with its ``fast`` value beside it.

``authors`` makes every choice the way the authors' code (and the DA-Fusion code base their baselines run in)
makes it; ``fast`` keeps dalda's earlier choices. One table, read where each choice is made, so no stage
carries an ``if protocol == ...`` of its own. Every row is described, with the test that pins it, in
``docs/protocol.md``. The probes' own protocol (train-mode BatchNorm, augmentation per draw, evaluation per
epoch) is ``dalda.probes.protocols``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from PIL import Image

from dalda.config import DaldaConfig, ModelsConfig


@dataclass(frozen=True)
class ProtocolChoices:
    resample: Image.Resampling
    """Interpolation of the image prompt's resize, the img2img start image's resize, and the output's resize
    back to the source size (the authors and DA-Fusion: BILINEAR)."""
    ti_images: Literal["squash", "centre-crop"]
    """How a textual-inversion training image becomes a square: resized whole to the square (DA-Fusion) or its
    shorter side resized and the centre cropped."""
    probe_dtype: Literal["float32", "auto"]
    """The dtype of the alignment scorer and both probes when ``models.dtype=auto`` (the authors run them in
    float32; ``auto`` is float16 on CUDA). An explicit ``models.dtype`` always wins."""
    class_names: Literal["authors", "readable"]
    """Which class texts a dataset entry gives (``DatasetSpec.authors_names``): the authors' (Caltech-101: folder
    name lower-cased, ``_`` as a space) or dalda's readable ones (singular, the misspelling fixed)."""
    base_prompt_underscores: bool
    """Whether the Base Prompt writes the class name with ``_`` for spaces ("a photo of a american_bulldog"), as
    the authors' generation does; the CLIP prompts of the scorer and the probe keep the spaces either way."""


PROTOCOL_CHOICES: dict[str, ProtocolChoices] = {
    "authors": ProtocolChoices(
        resample=Image.Resampling.BILINEAR,
        ti_images="squash",
        probe_dtype="float32",
        class_names="authors",
        base_prompt_underscores=True,
    ),
    "fast": ProtocolChoices(
        resample=Image.Resampling.BICUBIC,
        ti_images="centre-crop",
        probe_dtype="auto",
        class_names="readable",
        base_prompt_underscores=False,
    ),
}


def protocol_choices(name: str) -> ProtocolChoices:
    """The choices of ``train.protocol=name``."""
    try:
        return PROTOCOL_CHOICES[name]
    except KeyError:
        raise ValueError(f"train.protocol={name!r} is not one of {sorted(PROTOCOL_CHOICES)}") from None


def probe_models(config: DaldaConfig) -> ModelsConfig:
    """``config.models`` as the alignment scorer and the probes load them: ``models.dtype=auto`` replaced by the
    protocol's ``probe_dtype`` (float32 under ``authors``); an explicit dtype, or ``fast``, leaves them as they are."""
    dtype = protocol_choices(config.train.protocol).probe_dtype
    if dtype == "auto" or config.models.dtype != "auto":
        return config.models
    return config.models.model_copy(update={"dtype": dtype})
