"""Generators: the ways of making synthetic images, by ``generator.name`` (an extension point).

An entry implements :class:`Generator` (``spec``): it plans the rows of ``plan.jsonl``, names the settings that
decide its pixels, describes its one-off ``Preparation``, and builds the :class:`Engine` that turns rows into images. Each
entry lives in its own module and is registered here, in one place, so importing ``dalda.generators`` gives
the full table. To add one: write the module, add one ``GENERATORS.register(...)`` line below (or, from your
own code or a test, call ``GENERATORS.register`` yourself). Walkthrough: ``docs/extending.md``.
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
from dalda.registry import Registry

GENERATORS = Registry[Generator]("generator", setting="generator.name", group="dalda.generators")
GENERATORS.register("ip-adapter", IPAdapterGenerator())
GENERATORS.register("real-guidance", RealGuidanceGenerator())
GENERATORS.register("da-fusion", DAFusionGenerator())
GENERATORS.register("ip-adapter-plus", IPAdapterPlusGenerator())
GENERATORS.register("sdxl-ip-adapter", SDXLIPAdapterGenerator())

__all__ = ["GENERATORS", "Engine", "Generator", "LambdaDraw", "PlanInputs", "PlanStreams", "Preparation", "SourceImage"]
