"""Train one classifier (a probe of ``dalda.probes``) on a run's training set: the recipe, top to bottom.

1. build the backbone and the head as the probe declares them (``dalda.probes``; CLIP's head starts as its
   zero-shot classifier);
2. with a frozen backbone and ``train.cache_features``: encode every real and synthetic image (and augmented
   view) once, then train the head on the cached table; otherwise encode each batch as it is drawn
   (``train.finetune_backbone`` trains the backbone too, so it always encodes per batch);
3. the draws follow the p-mixing rule (``sampling.py``) from a seed, identical in both modes.

``train.protocol=authors`` (``dalda.probes.protocols``) changes steps 2-3: the backbone runs in ``train()`` mode
while fitting, every draw is flipped and rotated afresh and encoded now (no cache is possible), and the head is
evaluated after every epoch on evaluation draws (``epochs.py``). The images are decoded and resized once into a
pixel store (``pixel_store.py``; the train stage builds one for all its fits) and augmented on the device
(``dalda.probes.augment``).
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from dalda.config import DaldaConfig
from dalda.datasets import ImageRecord
from dalda.probes import PROBES
from dalda.probes.encoder import ProbeEncoder
from dalda.hashing import file_sha256
from dalda.probes.augment import DeviceFlipRotate
from dalda.probes.features import FeatureCache, cached_features
from dalda.probes.protocols import TrainingProtocol, training_protocol
from dalda.probes.transforms import PLAIN_VIEW
from dalda.training.pixel_store import PixelStore, pixel_store_for
from dalda.training.sampling import MixingSampler, SamplingStats
from dalda.training.epochs import CachedEpochScorer, EpochEvaluator, has_running_statistics
from dalda.training.trainer import FitResult, augmented_source, cached_source, encoding_source, fit
from dalda.training.trainset import TrainingSet

log = logging.getLogger(__name__)

FeatureMode = Literal["cached", "encode", "augmented"]


def training_seed(config: DaldaConfig, classifier: str) -> int:
    """One seed per (config seed, trial, classifier): trials differ, and the classifiers draw independently."""
    entropy = [config.seed, config.data.trial, zlib.crc32(classifier.encode())]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


@dataclass
class TrainedClassifier:
    classifier: str
    encoder: ProbeEncoder
    head: nn.Linear
    feature_mode: FeatureMode
    fit: FitResult
    sampling: SamplingStats
    seed: int
    encode_seconds: float = 0.0
    """Time spent filling the feature cache (0 when encoding per batch)."""
    protocol: str = "fast"
    epoch_evaluations: list[dict[str, Any]] = field(default_factory=list)
    """Per-class, macro and micro accuracy after each epoch (``train.protocol=authors``; empty otherwise)."""
    backbone_drifted: bool = False
    """Whether fitting changed the backbone's buffers (train-mode BatchNorm): the checkpoint must keep them."""
    epoch_scores: list[dict[str, Any]] = field(default_factory=list)
    """``fast`` with cached features: macro and micro accuracy on every evaluation image after each epoch."""
    pixel_store: dict[str, Any] | None = None
    """``authors``: the pixel store the draws came from (images, bytes, in memory or mapped, decoding time)."""


def encode_training_items(
    encoder: ProbeEncoder, training_set: TrainingSet, digests: list[str], features_dir: Path, batch_size: int
) -> torch.Tensor:
    """(items, views, D) features of every real and synthetic image under every training view, through the cache."""
    cache = FeatureCache(features_dir, encoder.identity)
    return cached_features(
        encoder,
        cache,
        training_set.item_paths,
        digests,
        encoder.transform.training_views,
        batch_size,
        f"encoding {encoder.classifier} features",
    )


def train_classifier(
    classifier: str,
    config: DaldaConfig,
    training_set: TrainingSet,
    classes: list[str],
    features_dir: Path,
    *,
    encoder: ProbeEncoder | None = None,
    feature_mode: FeatureMode | None = None,
    seed: int | None = None,
    eval_records: Sequence[ImageRecord] = (),
    pixel_store: PixelStore | None = None,
) -> TrainedClassifier:
    """Train ``classifier`` as configured; ``feature_mode`` overrides ``train.cache_features`` (benchmarks, tests).

    ``eval_records`` are the evaluation images a protocol that evaluates every epoch (``authors``) scores; under
    ``fast`` with cached features they give the per-epoch accuracy curve (``CachedEpochScorer``), nothing more.
    ``pixel_store`` (``authors``) holds the training and evaluation images already decoded at
    ``train.image_size``; without one, this fit decodes them into its own (:func:`training_pixel_store`).
    """
    cfg = config.train
    protocol = training_protocol(cfg.protocol)
    seed = training_seed(config, classifier) if seed is None else seed
    probe = PROBES.get(classifier)
    if protocol.augment_every_draw:
        if cfg.finetune_backbone or cfg.augmented_views:
            raise ValueError(
                "train.protocol=authors keeps the backbone frozen and augments every draw itself; set "
                "train.finetune_backbone=false and train.augmented_views=0, or use train.protocol=fast"
            )
        if feature_mode == "cached":
            raise ValueError("train.protocol=authors augments every draw afresh: its features cannot be cached")
        feature_mode = "augmented"
    encoder = encoder or probe.load_backbone(config, seed)
    if feature_mode is None:
        feature_mode = "cached" if cfg.cache_features and not cfg.finetune_backbone else "encode"
    if feature_mode == "cached" and cfg.finetune_backbone:
        raise ValueError("train.finetune_backbone=true changes the features every step; they cannot be cached")

    head = probe.build_head(encoder, classes, cfg, seed).to(encoder.device)
    parameters = list(head.parameters())
    if cfg.finetune_backbone:
        encoder.make_trainable()
        parameters += list(encoder.module.parameters())
    optimizer = probe.optimizer(parameters, cfg)

    pool = training_set.pool
    views = encoder.transform.training_views
    sampler = MixingSampler(pool, cfg.synthetic_probability, cfg.batch_size, seed, num_views=len(views))
    encode_seconds = 0.0
    pixels = None
    if reads_pixel_store(protocol):
        pixels = pixel_store
        if pixels is None:
            pixels = training_pixel_store(config, training_set, eval_records, features_dir)
        if pixels.image_size != encoder.transform.image_size:
            raise ValueError(
                f"the pixel store holds {pixels.image_size} px images, the {classifier} probe expects "
                f"{encoder.transform.image_size} px"
            )
    if feature_mode == "augmented":
        augment = DeviceFlipRotate(encoder.transform, seed, encoder.device)
        features_of = augmented_source(encoder, pixels, pixels.rows_of(training_set.item_paths), augment)
    else:
        digests = [file_sha256(path) for path in training_set.item_paths]
        if feature_mode == "cached":
            start = time.perf_counter()
            table = encode_training_items(encoder, training_set, digests, features_dir, cfg.encode_batch_size)
            encode_seconds = time.perf_counter() - start
            features_of = cached_source(table, encoder.device)
        else:
            features_of = encoding_source(encoder, training_set.item_paths, digests, views, cfg.finetune_backbone)

    evaluator = None
    scorer = None
    if protocol.evaluate_every_epoch:
        evaluator = EpochEvaluator(
            encoder, head, eval_records, classes, cfg.eval_draws, seed, cfg.encode_batch_size, pixels
        )
    elif eval_records and feature_mode == "cached":
        eval_paths = [Path(record.path) for record in eval_records]
        eval_table = cached_features(
            encoder, FeatureCache(features_dir, encoder.identity), eval_paths, [file_sha256(p) for p in eval_paths],
            [PLAIN_VIEW], cfg.encode_batch_size, f"encoding {classifier} eval features",
        )  # fmt: skip
        scorer = CachedEpochScorer(head, eval_table[:, 0], [record.label for record in eval_records], classes)
    drifts = protocol.backbone_train_mode and has_running_statistics(encoder.module)
    if protocol.backbone_train_mode:
        encoder.module.train()  # BatchNorm: batch statistics, running statistics drift (no gradients)
    result = fit(
        head,
        optimizer,
        sampler,
        torch.as_tensor(pool.item_labels()),
        features_of,
        cfg.epochs,
        cfg.iterations_per_epoch,
        description=f"training {classifier} ({feature_mode} features)",
        on_epoch_end=evaluator or scorer,
        classifier=classifier,
    )
    head.eval()
    encoder.module.eval()
    log.info(
        "%s: %d steps in %.1fs (+%.1fs encoding), final epoch loss %.4f, synthetic rate %.3f",
        classifier,
        result.steps,
        result.seconds,
        encode_seconds,
        result.epoch_losses[-1],
        sampler.stats.effective_rate,
    )
    return TrainedClassifier(
        classifier,
        encoder,
        head,
        feature_mode,
        result,
        sampler.stats,
        seed,
        encode_seconds,
        protocol.name,
        evaluator.epochs if evaluator is not None else [],
        drifts,
        scorer.epochs if scorer is not None else [],
        pixels.describe() if pixels is not None else None,
    )


def reads_pixel_store(protocol: TrainingProtocol) -> bool:
    """Whether fits under ``protocol`` read images from a pixel store (fresh augmentation per draw, or evaluation
    after every epoch), so the images are decoded once up front."""
    return protocol.augment_every_draw or protocol.evaluate_every_epoch


def training_pixel_store(
    config: DaldaConfig, training_set: TrainingSet, eval_records: Sequence[ImageRecord], spill_dir: Path
) -> PixelStore:
    """Every training item and evaluation image decoded once at ``train.image_size`` (``pixel_store.py``); the same
    store serves every classifier and the real-only reference fit of a train stage (their images are among these)."""
    paths = list(training_set.item_paths) + [Path(record.path) for record in eval_records]
    return pixel_store_for(config.train, paths, spill_dir)
