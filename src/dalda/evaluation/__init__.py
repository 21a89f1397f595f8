"""Accuracy of the trained classifiers (plus the zero-shot CLIP reference) and diversity of the synthetic set."""

from dalda.evaluation.stage import run_evaluate_stage

__all__ = ["run_evaluate_stage"]
