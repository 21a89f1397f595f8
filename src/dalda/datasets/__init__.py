"""Datasets (an extension point): one :class:`DatasetSpec` per dataset, looked up by ``data.dataset``.

The paper's three datasets come first, in its table order (the report lists datasets in registration order),
then the offline demo and the user's own image folder. Adding a dataset is one module defining a spec plus one
``DATASETS.register`` call (``docs/extending.md``).
"""

from dalda.datasets.caltech101 import CALTECH101
from dalda.datasets.demo import DEMO
from dalda.datasets.flowers102 import FLOWERS102
from dalda.datasets.imagefolder import IMAGEFOLDER
from dalda.datasets.pets import PETS
from dalda.datasets.records import DatasetIndex, ImageRecord, sorted_records
from dalda.datasets.spec import ALL_HALVED, DATASETS, DatasetLoader, DatasetSpec, Halves, PaperAlignment

DATASETS.register("pets", PETS)
DATASETS.register("caltech101", CALTECH101)
DATASETS.register("flowers102", FLOWERS102)
DATASETS.register("demo", DEMO)
DATASETS.register("imagefolder", IMAGEFOLDER)

__all__ = [
    "ALL_HALVED",
    "DATASETS",
    "DatasetIndex",
    "DatasetLoader",
    "DatasetSpec",
    "Halves",
    "ImageRecord",
    "PaperAlignment",
    "sorted_records",
]
