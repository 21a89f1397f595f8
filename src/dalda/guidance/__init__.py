"""λ samplers by name (``guidance.strategy``): how each synthetic image's IP-Adapter weight is drawn.

``ags`` is the paper's Adaptive Guidance Scaling, ``ags-clipped`` the authors' code's variant of it, ``random``
the paper's RS ablation and ``fixed`` one λ for all (Fig. 8). Adding a sampler is one module implementing
:class:`LambdaSampler` plus one ``GUIDANCE.register`` call, or an entry point in the ``dalda.guidance`` group of
an installed package (``docs/extending.md``).
"""

from dalda.config import GuidanceConfig
from dalda.guidance.ags import AGS, AGS_CLIPPED, AgsParameters, AgsSettings, BoundAgs
from dalda.guidance.fixed import FIXED, FixedSettings
from dalda.guidance.groups import HIGH, LOW, clipscore_group
from dalda.guidance.spec import BoundSampler, LambdaSampler, SamplingContext
from dalda.guidance.uniform import RANDOM, RandomSettings
from dalda.registry import Registry

GUIDANCE = Registry[LambdaSampler]("λ sampler", setting="guidance.strategy", group="dalda.guidance")
for _sampler in (RANDOM, AGS, AGS_CLIPPED, FIXED):  # the paper's table order (RS before AGS): rows sort by it
    GUIDANCE.register(_sampler.name, _sampler)

__all__ = [
    "GUIDANCE",
    "HIGH",
    "LOW",
    "AgsParameters",
    "AgsSettings",
    "BoundAgs",
    "BoundSampler",
    "FixedSettings",
    "LambdaSampler",
    "RandomSettings",
    "SamplingContext",
    "bind",
    "clipscore_group",
    "group_threshold",
]


def bind(guidance: GuidanceConfig, context: SamplingContext) -> BoundSampler:
    """The sampler ``guidance.strategy`` names, with the section's settings, bound to ``context``."""
    sampler = GUIDANCE.get(guidance.strategy)
    return sampler.bind(sampler.settings_model.of(guidance), context)


def group_threshold(guidance: GuidanceConfig, context: SamplingContext) -> float:
    """The Low / High threshold the run's images are grouped by: the sampler's own (AGS), else the scorer's
    default (a run without AGS still records each image's group, for the histogram and Tab. 3)."""
    threshold = bind(guidance, context).threshold
    return context.default_alpha if threshold is None else threshold
