"""train.protocol: the authors' probes (train-mode BatchNorm, flip+rotation, raw CLIP head, per-epoch macro
accuracy with the best epoch beside the final one) against the fast cached-feature protocol (docs/protocol.md)."""

import csv
import json

import pytest
import torch

from dalda.artefacts import Checkpoint, ClassifierResult
from dalda.config import config_to_yaml
from dalda.evaluation.stage import run_evaluate_stage
from dalda.probes import PROBES
from dalda.probes.accuracy import accuracy_report, best_epoch
from dalda.probes.augment import DeviceFlipRotate
from dalda.report.stage import build_report
from dalda.training.classifier import train_classifier
from dalda.training.stage import run_train_stage
from dalda.training.trainset import load_training_set
from test_training_support import make_run, tiny_run_config

AUTHORS = {"protocol": "authors", "epochs": 3, "iterations_per_epoch": 3, "eval_draws": 24}


def _buffers(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: value.clone() for name, value in module.named_buffers() if "running" in name}


def test_macro_and_micro_accuracy_differ_on_an_unbalanced_set():
    labels = torch.tensor([0] * 8 + [1] * 2)
    predictions = torch.zeros(10, dtype=torch.long)  # always class 0: right 8 times out of 10
    report = accuracy_report(predictions, labels, ["big", "small", "absent"])
    assert report["micro_accuracy"] == report["accuracy"] == pytest.approx(0.8)
    assert report["macro_accuracy"] == pytest.approx(0.5)  # (1.0 + 0.0) / 2; the class without images is left out
    assert report["per_class_accuracy"] == {"big": 1.0, "small": 0.0, "absent": None}


def test_best_epoch_is_the_highest_macro_and_says_where_it_was_chosen():
    epochs = [{"epoch": e, "macro_accuracy": m, "micro_accuracy": m} for e, m in [(1, 0.2), (2, 0.6), (3, 0.6)]]
    best = best_epoch(epochs)
    assert best["epoch"] == 2 and best["macro_accuracy"] == 0.6 and "evaluation split" in best["selected_on"]
    assert best_epoch([]) is None


@pytest.mark.parametrize("protocol, drifts", [("authors", True), ("fast", False)])
def test_batchnorm_running_statistics_drift_only_under_authors(tmp_path, protocol, drifts):
    config = tiny_run_config(tmp_path, train={**AUTHORS, "protocol": protocol, "classifiers": ["resnet50"]})
    run, split = make_run(config, images_per_real=2)
    encoder = PROBES.get("resnet50").load_backbone(config, 0)
    before = _buffers(encoder.module)
    assert before, "the tiny ResNet must have BatchNorm running statistics for this test to mean anything"
    training_set = load_training_set(split, run)
    trained = train_classifier(
        "resnet50", config, training_set, split.classes, run.features, encoder=encoder, eval_records=split.eval
    )
    after = _buffers(encoder.module)
    changed = any(not torch.equal(before[name], after[name]) for name in before)
    assert changed is drifts and trained.backbone_drifted is drifts
    assert trained.feature_mode == ("augmented" if drifts else "cached")
    assert not encoder.module.training  # evaluation then runs in eval mode with the drifted statistics
    assert len(trained.epoch_evaluations) == (3 if drifts else 0)


def test_authors_resnet_loads_the_default_v2_weights(tmp_path):
    fast = tiny_run_config(tmp_path)
    authors = tiny_run_config(tmp_path, train={"protocol": "authors"})
    assert PROBES.get("resnet50").load_backbone(fast, 0).model_id.startswith("torchvision/resnet50.IMAGENET1K_V1")
    assert PROBES.get("resnet50").load_backbone(authors, 0).model_id.startswith("torchvision/resnet50.IMAGENET1K_V2")


def test_raw_clip_head_gives_raw_feature_logits(tmp_path):
    config = tiny_run_config(tmp_path, train={"protocol": "authors"})
    classes = ["cat", "dog", "bird"]
    encoder = PROBES.get("clip").load_backbone(config, 0)
    head = PROBES.get("clip").build_head(encoder, classes, config.train, 7)
    model = encoder.bundle.model
    tokens = encoder.bundle.tokenizer([f"a photo of a {c}" for c in classes], padding=True, return_tensors="pt")
    pixels = torch.randn(4, 3, config.train.image_size, config.train.image_size)
    with torch.no_grad():
        text = model.text_projection(model.text_model(**tokens).pooler_output)  # CLIP's get_text_features
        interpolate = config.train.image_size != model.config.vision_config.image_size
        pooled = model.vision_model(pixel_values=pixels, interpolate_pos_encoding=interpolate).pooler_output
        image = model.visual_projection(pooled)  # CLIP's get_image_features: no L2 norm
        expected = image @ text.T + head.bias
        assert torch.allclose(encoder.encode(pixels), image, atol=1e-5)
        assert torch.allclose(head(encoder.encode(pixels)), expected, atol=1e-4)
    assert not torch.allclose(text.norm(dim=1), torch.ones(3))  # raw, not unit-norm
    assert head.bias.abs().sum() > 0  # random init, not zero; seeded: the same seed gives the same bias
    assert torch.equal(head.bias, PROBES.get("clip").build_head(encoder, classes, config.train, 7).bias)
    fast = tiny_run_config(tmp_path)
    assert "variant=raw-features" in encoder.identity
    assert "variant" not in PROBES.get("clip").load_backbone(fast, 0).identity  # never shares a feature cache


def test_flip_rotate_draws_fresh_views_repeatably(tmp_path):
    config = tiny_run_config(tmp_path, train={"protocol": "authors"})
    encoder = PROBES.get("resnet50").load_backbone(config, 0)
    image = torch.zeros(1, 3, 32, 32, dtype=torch.uint8)
    image[:, 0, :, :10] = 255  # a red band on the left: flips and rotations move it
    first, second = (DeviceFlipRotate(encoder.transform, 3, torch.device("cpu")) for _ in range(2))
    views = [first(image.expand(3, -1, -1, -1)) for _ in range(2)]
    assert all(view.shape == (3, 3, 32, 32) for view in views)
    flat = torch.cat(views)
    assert any(not torch.equal(flat[0], view) for view in flat[1:])  # every draw has its own flip and angle
    assert all(torch.equal(view, second(image.expand(3, -1, -1, -1))) for view in views)  # same seed, same draws


def test_authors_results_keep_every_epoch_the_best_and_the_final(tmp_path):
    no_reference = {**AUTHORS, "real_only_reference": False}  # tests/test_report_accuracy.py covers it
    no_diversity = {"metrics": {name: {"enabled": False} for name in ("lpips", "clip_i", "clip_i_real")}}
    config = tiny_run_config(tmp_path, train=no_reference, evaluate=no_diversity)
    run, split = make_run(config, images_per_real=2)
    run_train_stage(config, run)
    checkpoint = Checkpoint.read(run.checkpoint_file("resnet50"))
    assert checkpoint.backbone and all("running" in k or "num_batches" in k for k in checkpoint.backbone)
    run_evaluate_stage(config, run)
    for classifier in ("resnet50", "clip"):
        result = ClassifierResult.read(run.result_file(classifier))
        assert result.protocol == "authors" and result.accuracy_metric == "macro"
        assert result.accuracy == result.macro_accuracy == result.final_epoch["macro_accuracy"]
        assert result.final_epoch["epoch"] == 3 and result.final_epoch["evaluated_on"] == "every evaluation image once"
        assert [entry["epoch"] for entry in result.epochs] == [1, 2, 3]
        for entry in result.epochs:
            assert entry["num_draws"] == 24 and set(entry["per_class_accuracy"]) == set(split.classes)
            assert {"macro_accuracy", "micro_accuracy"} <= set(entry)
        best = max(result.epochs, key=lambda entry: entry["macro_accuracy"])
        assert result.best_epoch["macro_accuracy"] == best["macro_accuracy"]
        assert "evaluation split" in result.best_epoch["selected_on"]
    # the zero-shot reference stays CLIP's zero-shot classifier (normalised features, logit scale)
    assert result.zero_shot_clip_accuracy is not None

    run.config.write_text(config_to_yaml(config))
    build_report(run.root)
    with open(run.report / "tables" / "runs.csv", newline="") as handle:
        (row,) = [r for r in csv.DictReader(handle) if not r["Method"].endswith("reference")]
    assert row["Protocol"] == "clip authors: macro; resnet50 authors: macro"
    assert float(row["Acc-CLIP best epoch†"]) == pytest.approx(result.best_epoch["macro_accuracy"], abs=1e-3)
    assert float(row["Acc-CLIP"]) == pytest.approx(result.accuracy, abs=1e-3)


def test_fast_results_keep_the_final_epoch_with_macro_and_micro(tmp_path):
    no_diversity = {"metrics": {name: {"enabled": False} for name in ("lpips", "clip_i", "clip_i_real")}}
    config = tiny_run_config(tmp_path, train={"classifiers": ["clip"]}, evaluate=no_diversity)
    run, _ = make_run(config, images_per_real=1)
    run_train_stage(config, run)
    run_evaluate_stage(config, run)
    payload = json.loads(run.result_file("clip").read_text())
    assert payload["protocol"] == "fast" and payload["accuracy_metric"] == "micro"
    assert payload["accuracy"] == payload["micro_accuracy"] and payload["best_epoch"] is None
    assert len(payload["epochs"]) == 1 and payload["epochs"][0]["macro_accuracy"] == payload["macro_accuracy"]


def test_authors_refuses_settings_it_cannot_honour(tmp_path):
    config = tiny_run_config(tmp_path, train={"protocol": "authors", "augmented_views": 2})
    run, split = make_run(config, images_per_real=1)
    with pytest.raises(ValueError, match="train.augmented_views=0"):
        train_classifier("resnet50", config, load_training_set(split, run), split.classes, run.features)


def test_results_files_from_before_the_protocols_still_load():
    old = ClassifierResult.from_json({"method": "llm-ags", "accuracy": 0.5, "classifier": "clip"})
    assert old.protocol is None and old.macro_accuracy is None and old.epochs is None and old.best_epoch is None
    assert old.to_json()["accuracy"] == 0.5
