"""Diversity metrics of the synthetic set (paper Sec. 4.2), by name: CLIP-I (among synthetic images and against
the real source) and LPIPS.

Each entry is one module implementing :class:`DiversityMetric` plus one registration below; the evaluate stage
writes every enabled entry to ``diversity.json`` under its name, and the report makes a column of each
(``docs/extending.md``).
"""

from dalda.metrics.clip_i import ClipI, ClipIReal
from dalda.metrics.lpips import Lpips
from dalda.metrics.spec import DiversityMetric, GroupScorer, ImageLoader, column_title
from dalda.registry import Registry

DIVERSITY_METRICS = Registry[DiversityMetric]("diversity metric")
DIVERSITY_METRICS.register("clip_i", ClipI())
DIVERSITY_METRICS.register("clip_i_real", ClipIReal())
DIVERSITY_METRICS.register("lpips", Lpips())

__all__ = ["DIVERSITY_METRICS", "DiversityMetric", "GroupScorer", "ImageLoader", "column_title"]
