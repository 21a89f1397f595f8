"""Probes: the downstream classifiers of ``train.classifiers`` (a frozen backbone and a linear head), by name.

Each entry is one module implementing :class:`ProbeSpec` (``resnet50.py``, ``clip.py``) plus one registration
below; the train and evaluate stages and the report look a classifier up here and never branch on its name
(``docs/extending.md``).
"""

from dalda.probes.clip import ClipProbe
from dalda.probes.resnet50 import ResNet50Probe
from dalda.probes.spec import ProbeSpec
from dalda.registry import Registry

PROBES = Registry[ProbeSpec]("classifier", setting="train.classifiers", group="dalda.probes")
PROBES.register("resnet50", ResNet50Probe())
PROBES.register("clip", ClipProbe())

__all__ = ["PROBES", "ProbeSpec"]
