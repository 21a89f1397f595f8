"""On the built-in demo dataset a classifier learns: evaluation accuracy well above chance.

The tiny ResNet has random weights, so its features are weak; the settings below (16 shots, 48 px, the
backbone's own normalisation, lr 3e-2, 400 steps) gave 0.41-0.48 over four trials (chance: 0.2). The bound
leaves room for platform float differences while still failing for a head that learns nothing.
"""

import torch

from dalda.evaluation.accuracy import accuracy_report, eval_features, predict
from dalda.training.classifier import train_classifier
from dalda.probes.networks import linear_head
from dalda.training.trainset import load_training_set
from test_training_support import make_run, tiny_run_config


def test_resnet_probe_learns_the_demo(tmp_path):
    config = tiny_run_config(
        tmp_path,
        train={
            "iterations_per_epoch": 200,
            "epochs": 2,
            "batch_size": 32,
            "image_size": 48,
            "probes": {"resnet50": {"lr": 3e-2}},
            "normalization": "backbone",
            "synthetic_probability": 0.0,
        },
        data={"shots": 16},
    )
    run, split = make_run(config, images_per_real=0)
    trained = train_classifier("resnet50", config, load_training_set(split, run), split.classes, run.features)

    features = eval_features(trained.encoder, split.eval, run.features, 64, use_cache=True)
    labels = torch.tensor([record.label for record in split.eval])
    accuracy = accuracy_report(predict(trained.head, features), labels, split.classes)["accuracy"]
    untrained = linear_head(trained.encoder.feature_dim, len(split.classes), trained.seed)
    before = accuracy_report(predict(untrained, features), labels, split.classes)["accuracy"]

    chance = 1 / len(split.classes)
    assert len(split.eval) >= 100
    assert accuracy >= chance + 0.1, (accuracy, before)
    assert accuracy > before + 0.05
    assert trained.fit.epoch_losses[-1] < 0.8 * trained.fit.epoch_losses[0]
