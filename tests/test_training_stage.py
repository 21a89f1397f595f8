"""The train stage: one checkpoint per classifier, the synthetic set read from the manifest, real-only fallbacks."""

import json

import pytest
import torch

from dalda.artefacts import Checkpoint
from dalda.models.resnet50 import load_resnet50_backbone
from dalda.training.stage import run_train_stage
from dalda.training.trainset import load_training_set
from test_training_support import make_run, tiny_run_config


def test_train_stage_writes_a_checkpoint_per_classifier(tmp_path):
    config = tiny_run_config(tmp_path)
    run, split = make_run(config, images_per_real=3, without_synthetic=1)
    paths = run_train_stage(config, run)

    assert set(paths) == {"resnet50", "clip"}
    for classifier, path in paths.items():
        assert path == run.results / f"{classifier}_head.pt"
        payload = Checkpoint.read(path).to_payload()
        record = payload["record"]
        assert payload["classes"] == split.classes and "backbone" not in payload
        assert record["num_train_real"] == len(split.train)
        assert record["num_synthetic"] == 3 * (len(split.train) - 1)
        assert record["real_images_without_synthetic"] == 1
        assert record["draws"] == 10 * 8 and 0 < record["effective_synthetic_rate"] < 1
        assert record["feature_mode"] == "cached"
        assert json.loads((run.results / f"{classifier}_train.json").read_text()) == record
    assert any(run.features.glob("resnet50-*.safetensors")) and any(run.features.glob("clip-*.safetensors"))


def test_manifest_rows_map_by_source_path_and_skip_missing_files(tmp_path):
    config = tiny_run_config(tmp_path)
    run, split = make_run(config, images_per_real=2)
    rows = [json.loads(line) for line in run.manifest.read_text().splitlines()]
    (run.synthetic / rows[0]["file_name"]).unlink()
    # source_index is deliberately wrong: the mapping must follow source_path.
    rows = [{**row, "source_index": 0} for row in rows]
    run.manifest.write_text("".join(json.dumps(row) + "\n" for row in rows))

    training_set = load_training_set(split, run)
    assert training_set.skipped == {"file_missing": 1}
    for path, source in zip(training_set.synthetic_paths, training_set.synthetic_sources):
        row = next(r for r in rows if run.synthetic / r["file_name"] == path)
        assert str(split.train[source].path) == row["source_path"]


def test_manifest_of_another_split_is_refused(tmp_path):
    config = tiny_run_config(tmp_path)
    run, split = make_run(config, images_per_real=1)
    rows = [json.loads(line) for line in run.manifest.read_text().splitlines()]
    run.manifest.write_text("".join(json.dumps({**r, "source_path": "/elsewhere/x.png"}) + "\n" for r in rows))
    with pytest.raises(ValueError, match="another split"):
        load_training_set(split, run)


def test_no_manifest_trains_on_real_only_and_says_so(tmp_path):
    config = tiny_run_config(tmp_path, train={"classifiers": ["resnet50"]})
    run, _ = make_run(config, images_per_real=0)
    record = Checkpoint.read(run_train_stage(config, run)["resnet50"]).to_payload()["record"]
    assert record["num_synthetic"] == 0 and record["synthetic_draws"] == 0
    assert "no manifest" in record["synthetic_source"]


def test_finetune_saves_the_backbone_and_changes_it(tmp_path):
    train = {"classifiers": ["resnet50"], "finetune_backbone": True, "iterations_per_epoch": 2, "batch_size": 4}
    config = tiny_run_config(tmp_path, train=train)
    run, _ = make_run(config, images_per_real=1)
    payload = Checkpoint.read(run_train_stage(config, run)["resnet50"]).to_payload()
    assert payload["record"]["feature_mode"] == "encode" and payload["record"]["finetuned_backbone"]
    original = load_resnet50_backbone(config.models).module.state_dict()
    tuned = {k.removeprefix("module."): v for k, v in payload["backbone"].items()}
    assert set(tuned) == set(original)
    assert any(not torch.equal(tuned[k], original[k]) for k in original if original[k].is_floating_point())
