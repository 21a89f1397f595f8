"""The data stage: draw the few-shot split once and keep it in the run directory.

This is the only stage that draws a split. Every later stage reads ``split.json``
(:func:`dalda.artefacts.read_split_for`) rather than the dataset, so all stages of a run see the same images,
and a run directory can be inspected and resumed without re-scanning the dataset.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Literal

from dalda.artefacts.split import Split, check_split_matches, data_root
from dalda.config import DaldaConfig, DataConfig
from dalda.data.splits import make_split
from dalda.datasets import DATASETS, DatasetIndex
from dalda.protocol import protocol_choices
from dalda.rundir import RunDir

log = logging.getLogger(__name__)


def load_dataset_index(
    cfg: DataConfig, cache_dir: Path, class_names: Literal["authors", "readable"] = "readable"
) -> DatasetIndex:
    """Index ``cfg.dataset`` (class names plus trainval/test records) with the data settings of the config.

    ``cache_dir`` is where a generated dataset (the demo) is drawn when ``cfg.root`` is None. ``class_names``
    "authors" swaps in the entry's ``authors_names`` (``train.protocol``'s choice, ``dalda.protocol``).
    """
    spec = DATASETS.get(cfg.dataset)
    index = spec.load(cfg.root, cfg.download, Path(cache_dir), spec.settings_model.of(cfg))
    if class_names == "authors" and spec.authors_names:
        index = replace(index, classes=[spec.authors_names.get(name, name) for name in index.classes])
    return index


def run_data_stage(config: DaldaConfig, run: RunDir) -> Split:
    """Reuse the run's split if it matches the config, else draw it and write ``split.json``."""
    if run.split.exists():
        stored = Split.read(run)
        try:
            split = check_split_matches(stored, config.data, run.split)
        except ValueError as error:
            if not config.regenerate:
                raise
            log.warning("WARNING: --regenerate: drawing a new split.json, replacing the old one (%s)", error)
        else:
            if split.root != stored.root:
                log.warning("WARNING: data.root moved from %s to %s: split.json now records it", stored.root, split.root)
                split.write(run)
            for note in split.warnings():
                log.warning("WARNING: %s", note)
            return split
    index = load_dataset_index(config.data, run.data_cache, protocol_choices(config.train.protocol).class_names)
    split = make_split(
        index,
        shots=config.data.shots,
        trial=config.data.trial,
        eval_split=config.data.eval_split,
        max_eval_per_class=config.data.max_eval_per_class,
        halves=DATASETS.get(config.data.dataset).halves,
    )
    split.root = data_root(config.data)
    split.write(run)
    for note in split.warnings():
        log.warning("WARNING: %s", note)
    log.info("split: %d classes, %d training and %d evaluation images", len(split.classes), len(split.train), len(split.eval))
    return split
