"""The train stage: train every configured classifier on the run's real (+ synthetic) images.

With ``train.real_only_reference`` (the default) a run whose training set holds synthetic images also trains
each classifier on its real images alone, with the same seed, protocol and settings except
``synthetic_probability=0``: the report's "real images only" reference row (``results/real_only/``). It draws
the same batches a ``none`` run of the same split and seed draws, so it equals that run's classifier. Under
``train.protocol=fast`` it reuses the cached real features (seconds); under ``authors`` every draw is encoded
again, so it doubles the training time. A run without synthetic images is its own reference and trains none.

Under ``authors`` the training and evaluation images are decoded and resized once, into one pixel store that every
classifier and every reference fit of the stage draws from (``pixel_store.py``).

A reference already in the run is reused when its record's ``reference_key`` (training settings, models, seed,
real images) matches: a grid trains one per (dataset, shots, trial, classifier, protocol) before its first method cell
needs it (:func:`train_real_only_references`, the shared artefact "real-only references") and copies it into every
other cell, so the method cells never fit it again.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from dalda.artefacts.split import Split, read_split_for
from dalda.artefacts.table import real_only_reference_wanted
from dalda.artefacts.training import TrainingRecord
from dalda.config import DaldaConfig
from dalda.datasets import ImageRecord
from dalda.hashing import fingerprint
from dalda.images import drop_unreadable
from dalda.probes import PROBES
from dalda.probes.protocols import training_protocol
from dalda.rundir import RunDir
from dalda.training.checkpoint import save_checkpoint, training_record
from dalda.training.classifier import reads_pixel_store, train_classifier, training_pixel_store, training_seed
from dalda.training.pixel_store import PixelStore
from dalda.training.trainset import TrainingSet, load_training_set

log = logging.getLogger(__name__)


def run_train_stage(config: DaldaConfig, run: RunDir) -> dict[str, Path]:
    """Train each classifier of ``train.classifiers``; save ``results/<classifier>_head.pt``; return their paths."""
    for classifier in config.train.classifiers:
        PROBES.get(classifier)  # an unknown name fails here, before any data is read or model loaded
    split = read_split_for(config.data, run)
    replaced = [run.checkpoint_file(name) for name in config.train.classifiers if run.checkpoint_file(name).is_file()]
    if replaced:
        log.warning(
            "WARNING: train: replacing %d existing fit(s) (%s): the train stage always fits anew",
            len(replaced), ", ".join(str(path) for path in replaced),
        )  # fmt: skip
    training_set = load_training_set(split, run, use_synthetic=config.train.synthetic_probability > 0)
    info = training_set.describe()
    log.info(
        "training on %d real and %d synthetic images (%s)",
        info["num_train_real"],
        info["num_synthetic"],
        info["synthetic_source"],
    )
    train_config = config.train.model_dump(mode="json")
    eval_records, pixels = _evaluation_inputs(config, run, split, training_set)
    paths: dict[str, Path] = {}
    for classifier in config.train.classifiers:
        trained = train_classifier(
            classifier, config, training_set, split.classes, run.features, eval_records=eval_records,
            pixel_store=pixels,
        )  # fmt: skip
        path = run.checkpoint_file(classifier)
        record = training_record(trained, info, train_config)
        save_checkpoint(path, run.train_record_file(classifier), trained, split.classes, record)
        paths[classifier] = path
    reference = info["num_synthetic"] > 0 and real_only_reference_wanted(config)
    for classifier in config.train.classifiers:
        if not reference:
            # an earlier reference no longer matches this training set
            run.reference_checkpoint_file(classifier).unlink(missing_ok=True)
            run.reference_train_record_file(classifier).unlink(missing_ok=True)
            continue
        _train_real_only_reference(config, run, classifier, training_set, split.classes, eval_records, pixels)
    return paths


def _evaluation_inputs(
    config: DaldaConfig, run: RunDir, split: Split, training_set: TrainingSet
) -> tuple[list[ImageRecord], PixelStore | None]:
    """The evaluation images the fits score per epoch, and the pixel store they draw from (``authors``).

    A protocol that evaluates every epoch (authors) reads the evaluation images while training; fast reads their
    cached features for the accuracy curve only (the evaluate stage then finds them in the cache).
    """
    cached = config.train.cache_features and not config.train.finetune_backbone
    per_epoch = training_protocol(config.train.protocol).evaluate_every_epoch or cached
    eval_records = drop_unreadable(split.eval) if per_epoch else []
    pixels = None
    if reads_pixel_store(training_protocol(config.train.protocol)):
        pixels = training_pixel_store(config, training_set, eval_records, run.features)
    return eval_records, pixels


def train_real_only_references(config: DaldaConfig, run: RunDir) -> None:
    """Only the real-only references of ``train.classifiers`` (the split's real images; no synthetic image is
    read): what a grid shares between its method cells before their train stages run."""
    split = read_split_for(config.data, run)
    training_set = load_training_set(split, run, use_synthetic=False)
    eval_records, pixels = _evaluation_inputs(config, run, split, training_set)
    for classifier in config.train.classifiers:
        _train_real_only_reference(config, run, classifier, training_set, split.classes, eval_records, pixels)


def _reference_key(config: DaldaConfig, classifier: str, training_set: TrainingSet) -> str:
    """Fingerprint of what a real-only reference is trained from: its training settings, models, seed and real
    images."""
    real = [[str(record.path), record.label] for record in training_set.real]
    settings = [config.train.model_dump(mode="json"), config.models.model_dump(mode="json")]
    return fingerprint([*settings, training_seed(config, classifier), real])


def _has_reference(run: RunDir, classifier: str, key: str) -> bool:
    """A reference for ``key`` is already in the run (a grid's shared copy, or an earlier train of this run)."""
    record_file = run.reference_train_record_file(classifier)
    if not (record_file.is_file() and run.reference_checkpoint_file(classifier).is_file()):
        return False
    try:
        return TrainingRecord.read(record_file).reference_key == key
    except ValueError:
        return False


def _train_real_only_reference(
    config: DaldaConfig,
    run: RunDir,
    classifier: str,
    training_set: TrainingSet,
    classes: list[str],
    eval_records: list[ImageRecord],
    pixels: PixelStore | None,
) -> None:
    """``classifier`` trained on the real images only (p = 0), saved under ``results/real_only/``."""
    real_only = config.model_copy(
        update={"train": config.train.model_copy(update={"synthetic_probability": 0.0})}
    )
    real_set = TrainingSet(list(training_set.real), [], [], "none (real-only reference)")
    key = _reference_key(real_only, classifier, real_set)
    if _has_reference(run, classifier, key):
        log.info("the real-only reference of %s is already trained (%s); reused", classifier, run.real_only_results)
        return
    log.info("training the real-only reference of %s on %d real images", classifier, len(real_set.real))
    trained = train_classifier(
        classifier, real_only, real_set, classes, run.features, eval_records=eval_records, pixel_store=pixels
    )
    record = training_record(trained, real_set.describe(), real_only.train.model_dump(mode="json"))
    save_checkpoint(
        run.reference_checkpoint_file(classifier),
        run.reference_train_record_file(classifier),
        trained,
        classes,
        replace(record, reference="real_only", reference_key=key),
    )
