"""The data stage: the few-shot split of the configured dataset, drawn once and kept in the run directory.

The datasets themselves (loaders, class names, descriptions) are entries of :data:`dalda.datasets.DATASETS`.
"""

from dalda.data.splits import make_split
from dalda.data.stage import load_dataset_index, run_data_stage

__all__ = ["load_dataset_index", "make_split", "run_data_stage"]
