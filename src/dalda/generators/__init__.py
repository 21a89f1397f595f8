"""Generators: the ways of making synthetic images, by ``generator.name`` (an extension point).

An entry implements :class:`Generator` (``spec``): it declares its own settings (checkpoints, sampler, ...; the
Stable Diffusion ones share ``settings``), plans the rows of ``plan.jsonl``, names the settings that decide its
pixels, describes its one-off ``Preparation``, and builds the :class:`Engine` that turns rows into images. Each
entry lives in its own module and is registered here, in one place, so importing ``dalda.generators`` gives
the full table; entry modules import torch and diffusers only when they build an engine, so the table is cheap
to load. To add one: write the module, add one ``GENERATORS.register(...)`` line below (or, from your own code or
a test, call ``GENERATORS.register`` yourself). Walkthrough: ``docs/extending.md``.
"""

from dalda.generators.da_fusion import DAFusionGenerator
from dalda.generators.ip_adapter import IPAdapterGenerator
from dalda.generators.ip_adapter_plus import IPAdapterPlusGenerator
from dalda.generators.real_guidance import RealGuidanceGenerator
from dalda.generators.sdxl_ip_adapter import SDXLIPAdapterGenerator
from dalda.generators.spec import (
    Engine,
    Generator,
    LambdaDraw,
    PlanInputs,
    PlanStreams,
    Preparation,
    SourceImage,
)
from dalda.config import DaldaConfig
from dalda.registry import Registry
from dalda.settings import EntrySettings

GENERATORS = Registry[Generator]("generator", setting="generator.name", group="dalda.generators")
GENERATORS.register("ip-adapter", IPAdapterGenerator())
GENERATORS.register("real-guidance", RealGuidanceGenerator())
GENERATORS.register("da-fusion", DAFusionGenerator())
GENERATORS.register("ip-adapter-plus", IPAdapterPlusGenerator())
GENERATORS.register("sdxl-ip-adapter", SDXLIPAdapterGenerator())


def generator_settings(config: DaldaConfig) -> EntrySettings:
    """The resolved settings of the generator ``config`` chooses (its own settings model, with its defaults)."""
    return GENERATORS.settings_model(config.generator.name).of(config.generator)


__all__ = [
    "GENERATORS",
    "Engine",
    "Generator",
    "LambdaDraw",
    "PlanInputs",
    "PlanStreams",
    "Preparation",
    "SourceImage",
    "generator_settings",
]
