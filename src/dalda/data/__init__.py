"""Few-shot data: dataset indexes (paths + labels + readable class names), splits, and robust image reading.

Loaders are looked up by name in :data:`DATASETS`; torchvision is imported only when one of its datasets is
loaded, so importing this package (e.g. to validate a config) stays light.
"""

from dalda.data.images import UnreadableImageError, drop_unreadable, is_readable, load_rgb
from dalda.data.records import DatasetIndex, ImageRecord
from dalda.data.registry import DATASETS, load_dataset_index
from dalda.data.splits import FewShotSplit, make_split

__all__ = [
    "DATASETS",
    "DatasetIndex",
    "FewShotSplit",
    "ImageRecord",
    "UnreadableImageError",
    "drop_unreadable",
    "is_readable",
    "load_dataset_index",
    "load_rgb",
    "make_split",
]
