"""What a trained classifier leaves behind: ``results/<classifier>_head.pt`` and its readable ``_train.json``.

The ``.pt`` file (:class:`~dalda.artefacts.Checkpoint`) holds plain tensors and JSON-like values only, so it
loads with ``torch.load(weights_only=True)``: the head's weights, the fine-tuned backbone's weights when
``train.finetune_backbone`` was on, the class names, the backbone identity the head was trained on (evaluation
refuses a different backbone), and the training record (:class:`~dalda.artefacts.TrainingRecord`: sampling
statistics, losses, timings, the train config), which ``_train.json`` repeats and the results file too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dalda.artefacts import Checkpoint, TrainingRecord
from dalda.training.classifier import TrainedClassifier


def training_record(
    trained: TrainedClassifier, training_set_info: dict[str, Any], train_config: dict[str, Any]
) -> TrainingRecord:
    """How a classifier was trained (``training_set_info``: ``TrainingSet.describe``)."""
    return TrainingRecord(
        classifier=trained.classifier,
        seed=trained.seed,
        feature_mode=trained.feature_mode,
        finetuned_backbone=bool(train_config.get("finetune_backbone")),
        backbone_identity=trained.encoder.identity,
        model_id=trained.encoder.model_id,
        transform=trained.encoder.transform.describe(),
        **training_set_info,
        **trained.sampling.as_dict(),
        steps=trained.fit.steps,
        epoch_losses=trained.fit.epoch_losses,
        epoch_train_accuracies=trained.fit.epoch_train_accuracies,
        train_seconds=trained.fit.seconds,
        encode_seconds=trained.encode_seconds,
        pixel_store=trained.pixel_store,
        protocol=trained.protocol,
        backbone_buffers_drifted=trained.backbone_drifted,
        epoch_evaluations=trained.epoch_evaluations,
        epoch_eval_accuracies=trained.epoch_scores,
        train_config=train_config,
    )


def save_checkpoint(
    path: Path, record_path: Path, trained: TrainedClassifier, classes: list[str], record: TrainingRecord
) -> None:
    """The checkpoint at ``path`` and its training record at ``record_path`` (``RunDir.train_record_file``)."""
    backbone = None
    if record.finetuned_backbone:
        backbone = trained.encoder.module.state_dict()
    elif trained.backbone_drifted:  # train-mode BatchNorm moved the running statistics: keep the buffers
        backbone = dict(trained.encoder.module.named_buffers())
    Checkpoint(
        classifier=trained.classifier,
        classes=list(classes),
        feature_dim=trained.encoder.feature_dim,
        backbone_identity=trained.encoder.identity,
        head={k: v.detach().cpu() for k, v in trained.head.state_dict().items()},
        record=record,
        backbone={k: v.detach().cpu() for k, v in backbone.items()} if backbone is not None else None,
    ).write(path)
    record.write(record_path)
