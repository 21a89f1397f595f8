"""The train stage: train every configured classifier on the run's real (+ synthetic) images."""

from __future__ import annotations

import logging
from pathlib import Path

from dalda.artefacts.split import read_split_for
from dalda.config import DaldaConfig
from dalda.images import drop_unreadable
from dalda.probes import PROBES
from dalda.probes.protocols import training_protocol
from dalda.rundir import RunDir
from dalda.training.checkpoint import save_checkpoint, training_record
from dalda.training.classifier import train_classifier
from dalda.training.trainset import load_training_set

log = logging.getLogger(__name__)


def run_train_stage(config: DaldaConfig, run: RunDir) -> dict[str, Path]:
    """Train each classifier of ``train.classifiers``; save ``results/<classifier>_head.pt``; return their paths."""
    for classifier in config.train.classifiers:
        PROBES.get(classifier)  # an unknown name fails here, before any data is read or model loaded
    split = read_split_for(config.data, run)
    training_set = load_training_set(split, run, use_synthetic=config.train.synthetic_probability > 0)
    info = training_set.describe()
    log.info(
        "training on %d real and %d synthetic images (%s)",
        info["num_train_real"],
        info["num_synthetic"],
        info["synthetic_source"],
    )
    train_config = config.train.model_dump(mode="json")
    # Only a protocol that evaluates every epoch (authors) reads the evaluation images while training.
    eval_records = drop_unreadable(split.eval) if training_protocol(config.train.protocol).evaluate_every_epoch else []
    paths: dict[str, Path] = {}
    for classifier in config.train.classifiers:
        trained = train_classifier(
            classifier, config, training_set, split.classes, run.features, eval_records=eval_records
        )
        path = run.checkpoint_file(classifier)
        save_checkpoint(path, trained, split.classes, training_record(trained, info, train_config))
        paths[classifier] = path
    return paths
