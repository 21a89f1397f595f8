"""Diversity metrics of the synthetic set (paper Sec. 4.2), by name: CLIP-I (among synthetic images and against
the real source) and LPIPS; beyond the paper, DINO similarity (``dino``, ``dino_real``) and the fidelity metrics
FID and KID (``FIDELITY_METRICS``: the synthetic set against the real evaluation images, on the features of a
``FIDELITY_FEATURES`` encoder). The additions are off by default (``evaluate.dino``, ``evaluate.fid``,
``evaluate.kid``).

Each entry is one module implementing :class:`DiversityMetric` plus one registration below; the evaluate stage
writes every enabled entry to ``diversity.json`` under its name, and the report makes a column of each
(``docs/extending.md``).
"""

from dalda.metrics.clip_i import ClipI, ClipIReal
from dalda.metrics.dino import Dino, DinoReal
from dalda.metrics.fidelity import (
    ClipFeatures,
    DinoFeatures,
    Fid,
    FidelityEncoder,
    FidelityMetric,
    InceptionFeatures,
    Kid,
)
from dalda.metrics.lpips import Lpips
from dalda.metrics.spec import DiversityMetric, GroupScorer, ImageLoader, column_title
from dalda.registry import Registry

DIVERSITY_METRICS = Registry[DiversityMetric]("diversity metric")
DIVERSITY_METRICS.register("clip_i", ClipI())
DIVERSITY_METRICS.register("clip_i_real", ClipIReal())
DIVERSITY_METRICS.register("lpips", Lpips())
DIVERSITY_METRICS.register("dino", Dino())
DIVERSITY_METRICS.register("dino_real", DinoReal())

FIDELITY_METRICS = Registry[FidelityMetric]("fidelity metric")
FIDELITY_METRICS.register("fid", Fid())
FIDELITY_METRICS.register("kid", Kid())

FIDELITY_FEATURES = Registry[FidelityEncoder]("fidelity feature encoder", setting="evaluate.fidelity_features")
FIDELITY_FEATURES.register("inception", InceptionFeatures())
FIDELITY_FEATURES.register("dino", DinoFeatures())
FIDELITY_FEATURES.register("clip", ClipFeatures())


def metric_names() -> list[str]:
    """Every registered diversity and fidelity metric's key, as ``diversity.json`` and the results files hold them."""
    return [*DIVERSITY_METRICS, *FIDELITY_METRICS]

__all__ = [
    "DIVERSITY_METRICS",
    "FIDELITY_FEATURES",
    "FIDELITY_METRICS",
    "DiversityMetric",
    "FidelityEncoder",
    "FidelityMetric",
    "GroupScorer",
    "ImageLoader",
    "column_title",
    "metric_names",
]
