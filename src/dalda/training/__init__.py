"""Downstream classifiers (ResNet50 / CLIP linear probes) trained on real images mixed with synthetic ones.

``run_train_stage`` is the stage entry point; ``train_classifier`` trains one classifier and is what the
benchmark and tests call directly.
"""

from dalda.training.classifier import TrainedClassifier, train_classifier
from dalda.training.stage import run_train_stage

__all__ = ["TrainedClassifier", "run_train_stage", "train_classifier"]
