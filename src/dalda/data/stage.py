"""The data stage: draw the few-shot split once and keep it in the run directory.

Every later stage reads ``split.json`` rather than the dataset, so all stages of a run see the same images,
and a run directory can be inspected and resumed without re-scanning the dataset.
"""

from __future__ import annotations

import logging
from pathlib import Path

from dalda.config import DaldaConfig, DataConfig
from dalda.data.splits import FewShotSplit, make_split, read_split, write_split
from dalda.datasets import DATASETS, DatasetIndex
from dalda.rundir import RunDir

log = logging.getLogger(__name__)


def load_dataset_index(cfg: DataConfig, cache_dir: Path) -> DatasetIndex:
    """Index ``cfg.dataset`` (class names plus trainval/test records) with the data settings of the config.

    ``cache_dir`` is where a generated dataset (the demo) is drawn when ``cfg.root`` is None.
    """
    return DATASETS.get(cfg.dataset).load(cfg.root, cfg.download, Path(cache_dir))


def _check_matches(split: FewShotSplit, config: DaldaConfig, run: RunDir) -> None:
    wanted = {
        "dataset": config.data.dataset,
        "shots": config.data.shots,
        "trial": config.data.trial,
        "eval_split": config.data.eval_split,
        "max_eval_per_class": config.data.max_eval_per_class,
    }
    for field, value in wanted.items():
        if getattr(split, field) != value:
            raise ValueError(
                f"{run.split} was drawn with {field}={getattr(split, field)!r} but the config asks for {value!r}; "
                "use another --out directory for a different split, or delete split.json to redraw"
            )


def run_data_stage(config: DaldaConfig, run: RunDir) -> FewShotSplit:
    """Reuse the run's split if it matches the config, else draw it and write ``split.json``."""
    if run.split.exists():
        split = read_split(run.split)
        _check_matches(split, config, run)
        return split
    index = load_dataset_index(config.data, run.data_cache)
    split = make_split(
        index,
        shots=config.data.shots,
        trial=config.data.trial,
        eval_split=config.data.eval_split,
        max_eval_per_class=config.data.max_eval_per_class,
    )
    write_split(run.split, split)
    log.info("split: %d classes, %d training and %d evaluation images", len(split.classes), len(split.train), len(split.eval))
    return split
