"""Metrics of the synthetic set, diversity and fidelity alike, in one table (``METRICS``), by name.

Diversity (paper Sec. 4.2): CLIP-I (among synthetic images and against the real source) and LPIPS; beyond the
paper, DINO similarity (``dino``, ``dino_real``). Fidelity: FID and KID, the synthetic set against the real
evaluation images, on the features of a ``FIDELITY_FEATURES`` encoder (``evaluate.fidelity.features``).

Each metric is one module implementing :class:`DiversityMetric` or :class:`FidelityMetric` (its ``kind`` says
which) with its own settings (:class:`MetricSettings`: ``enabled`` plus its knobs, ``evaluate.metrics.<name>``;
the additions are off by default), plus one registration below, or an entry point in the ``dalda.metrics`` group
of an installed package. The evaluate stage writes every enabled metric to ``diversity.json`` under its name,
and the report makes a column of each (``docs/extending.md``).
"""

from dalda.config import EvaluateConfig
from dalda.metrics.clip_i import ClipI, ClipIReal
from dalda.metrics.dino import Dino, DinoReal
from dalda.metrics.features import ClipFeatures, DinoFeatures, FidelityEncoder, InceptionFeatures
from dalda.metrics.fidelity import Fid, Kid
from dalda.metrics.lpips import Lpips
from dalda.metrics.registry import MetricRegistry
from dalda.metrics.spec import (
    DiversityMetric,
    FidelityMetric,
    GroupScorer,
    ImageLoader,
    Metric,
    MetricSettings,
    column_title,
    on_by_default,
)
from dalda.registry import Registry

METRICS = MetricRegistry(group="dalda.metrics")
for _metric in (ClipI(), ClipIReal(), Lpips(), Dino(), DinoReal(), Fid(), Kid()):
    METRICS.register(_metric.name, _metric)

FIDELITY_FEATURES = Registry[FidelityEncoder]("fidelity feature encoder", setting="evaluate.fidelity.features")
for _encoder in (InceptionFeatures(), DinoFeatures(), ClipFeatures()):
    FIDELITY_FEATURES.register(_encoder.name, _encoder)


def metric_names() -> list[str]:
    """Every registered metric's key, diversity first, as ``diversity.json`` and the results files hold them."""
    return METRICS.names_by_kind()


def diversity_metrics() -> list[tuple[str, DiversityMetric]]:
    """The registered diversity metrics, in registration order."""
    return METRICS.of_kind("diversity")


def fidelity_metrics() -> list[tuple[str, FidelityMetric]]:
    """The registered fidelity metrics, in registration order."""
    return METRICS.of_kind("fidelity")


def metric_settings(evaluate: EvaluateConfig, name: str) -> MetricSettings:
    """Metric ``name``'s resolved settings (``evaluate.metrics.<name>``; defaults where a hand-made config lacks
    them)."""
    return METRICS.settings_of(evaluate, name)


__all__ = [
    "FIDELITY_FEATURES",
    "METRICS",
    "DiversityMetric",
    "FidelityEncoder",
    "FidelityMetric",
    "GroupScorer",
    "ImageLoader",
    "Metric",
    "MetricSettings",
    "column_title",
    "diversity_metrics",
    "fidelity_metrics",
    "metric_names",
    "metric_settings",
    "on_by_default",
]
