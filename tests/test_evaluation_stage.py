"""The evaluate stage: results files carry every field of the paper's tables, consistent with the split."""

import json

import pytest
import torch

from dalda.methods import method_of
from dalda.evaluation.accuracy import accuracy_report
from dalda.evaluation.stage import run_evaluate_stage
from dalda.training.stage import run_train_stage
from test_training_support import make_run, tiny_run_config

TABLE_FIELDS = {
    "method", "dataset", "shots", "trial", "classifier", "accuracy", "per_class_accuracy", "num_eval",
    "num_train_real", "num_synthetic", "synthetic_probability", "effective_synthetic_rate", "train_config",
    "models", "zero_shot_clip_accuracy", "diversity", "eval_split", "classes", "seed",
}


def test_accuracy_report_overall_and_per_class():
    report = accuracy_report(torch.tensor([0, 1, 1, 2]), torch.tensor([0, 1, 2, 2]), ["a", "b", "c", "d"])
    assert report["accuracy"] == 0.75 and report["num_eval"] == 4
    assert report["per_class_accuracy"] == {"a": 1.0, "b": 1.0, "c": 0.5, "d": None}
    assert report["per_class_count"] == {"a": 1, "b": 1, "c": 2, "d": 0}


def test_evaluate_writes_results_consistent_with_the_split(tmp_path):
    config = tiny_run_config(tmp_path, data={"max_eval_per_class": 6})
    run, split = make_run(config, images_per_real=3)
    run_train_stage(config, run)
    summary = run_evaluate_stage(config, run)

    diversity = json.loads(run.diversity.read_text())
    assert diversity["lpips_backbone"] == "random" and diversity["num_images"] == 3 * len(split.train)
    assert diversity["by_source"]["clip_i"]["num_groups"] == len(split.train)
    assert 0 < diversity["clip_i"] <= 1 and diversity["lpips"] >= 0

    for classifier in ("resnet50", "clip"):
        result = json.loads((run.results / f"{classifier}.json").read_text())
        assert TABLE_FIELDS <= set(result)
        # The template backend wrote the prompts: the honest label, and the config's own method underneath.
        assert result["method"] == "template-ags" and method_of(config).name == "llm-ags"
        assert (result["dataset"], result["shots"], result["trial"]) == ("demo", split.shots, split.trial)
        assert result["classifier"] == classifier and result["classes"] == split.classes
        assert result["num_eval"] == len(split.eval) == sum(result["per_class_count"].values())
        assert result["num_train_real"] == len(split.train)
        assert result["num_synthetic"] == 3 * len(split.train)
        weighted = sum(result["per_class_accuracy"][c] * result["per_class_count"][c] for c in split.classes)
        assert result["accuracy"] == pytest.approx(weighted / result["num_eval"], abs=1e-6)
        assert result["diversity"]["clip_i"] == diversity["clip_i"]
        assert result["train_config"] == config.train.model_dump(mode="json")
        assert summary["accuracy"][classifier] == result["accuracy"]
    assert summary["zero_shot_clip_accuracy"] == result["zero_shot_clip_accuracy"]


def test_zero_shot_reference_equals_the_untrained_clip_probe(tmp_path):
    # A learning rate too small to move the head: the CLIP probe is still its zero-shot initialisation.
    config = tiny_run_config(tmp_path, train={"classifiers": ["clip"], "probes": {"clip": {"lr": 1e-12, "weight_decay": 0.0}}})
    run, _ = make_run(config, images_per_real=0)
    run_train_stage(config, run)
    run_evaluate_stage(config, run)
    result = json.loads((run.results / "clip.json").read_text())
    assert result["accuracy"] == result["zero_shot_clip_accuracy"]
    assert result["per_class_accuracy"] == result["zero_shot_clip_per_class_accuracy"]
    assert result["method"] == "none" and result["configured_method"] == "template-ags"
    assert json.loads(run.diversity.read_text())["clip_i"] is None


def test_evaluate_refuses_a_changed_backbone(tmp_path):
    config = tiny_run_config(tmp_path, train={"classifiers": ["resnet50"]})
    run, _ = make_run(config, images_per_real=0)
    run_train_stage(config, run)
    changed = tiny_run_config(tmp_path, train={"classifiers": ["resnet50"], "image_size": 40})
    with pytest.raises(ValueError, match="run `dalda train` again"):
        run_evaluate_stage(changed, run)


def test_evaluate_without_training_says_what_to_do(tmp_path):
    config = tiny_run_config(tmp_path)
    run, _ = make_run(config, images_per_real=0)
    with pytest.raises(FileNotFoundError, match="dalda train"):
        run_evaluate_stage(config, run)
