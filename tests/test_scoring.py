"""CLIPScore on the tiny CLIP: both CLIP scorers equal a direct computation from the model, and the cache is reused."""

import json

import pytest
import torch

from dalda.images import load_rgb
from dalda.data.stage import run_data_stage
from dalda.models.clip import load_clip
from dalda.pipeline import prepare_run
from dalda.scorers import clip_forward as clip_scorer
from dalda.scoring import stage as score_stage
from dalda.scoring.stage import run_score_stage


@pytest.fixture
def scored(tiny_config):
    run = prepare_run(tiny_config)
    split = run_data_stage(tiny_config, run)
    return tiny_config, run, split, run_score_stage(tiny_config, run)


def test_scores_equal_direct_computation_from_embeddings(scored):
    config, run, split, scores = scored
    clip = load_clip(config.models)
    inputs = clip.tokenizer(
        [f"a photo of a {name}" for name in split.classes], padding="max_length", truncation=True, return_tensors="pt"
    )
    pixels = clip.image_processor(images=[load_rgb(r.path) for r in split.train], return_tensors="pt")
    with torch.no_grad():
        text = clip.model.get_text_features(**inputs)
        image = clip.model.get_image_features(pixel_values=pixels["pixel_values"])
        text = getattr(text, "pooler_output", text)
        image = getattr(image, "pooler_output", image)
        text = text / text.norm(dim=-1, keepdim=True)
        image = image / image.norm(dim=-1, keepdim=True)
        cosine = image @ text.T
        probabilities = (clip.model.logit_scale.exp() * cosine).softmax(dim=-1)
    assert len(scores) == len(split.train)
    for row, (record, score) in enumerate(zip(split.train, scores)):
        assert score.path == str(record.path) and score.label == record.label
        assert score.measures["softmax"] == pytest.approx(float(probabilities[row, record.label]), abs=1e-5)
        assert score.measures["cosine"] == pytest.approx(float(cosine[row, record.label]), abs=1e-5)
        assert score.measures["hessel"] == pytest.approx(2.5 * max(float(cosine[row, record.label]), 0.0), abs=1e-5)
        assert score.value("softmax") == score.measures["softmax"]
        assert score.value("cosine") == min(max(score.measures["cosine"], 0.0), 1.0)


def test_scores_file_histogram_and_model_identity(scored):
    config, run, split, _ = scored
    rows = [json.loads(line) for line in run.scores.read_text().splitlines()]
    assert [row["path"] for row in rows] == [str(r.path) for r in split.train]
    assert all(row["clip_model"].startswith("tiny-random:") for row in rows)  # never passes for real CLIP
    for row in rows:  # the run's own value and High/Low group, for readers of the file
        assert row["score"] == row["softmax"]
        assert row["group"] == ("low" if row["score"] <= 0.3 else "high")  # α unset: the softmax scorer's 0.3
    assert run.score_histogram.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_rerun_reuses_cache_and_rescoring_follows_changes(scored, monkeypatch):
    config, run, split, first = scored
    calls = []
    real_load = clip_scorer.load_clip
    monkeypatch.setattr(clip_scorer, "load_clip", lambda cfg: calls.append(cfg) or real_load(cfg))
    assert run_score_stage(config, run) == first
    assert calls == []  # nothing re-scored, CLIP not even loaded

    other_template = config.model_copy(update={"score": config.score.model_copy(update={"template": "an image of {}"})})
    rescored = run_score_stage(other_template, run)
    assert len(calls) == 1 and all(score.template == "an image of {}" for score in rescored)


def test_changed_image_bytes_are_rescored(scored, monkeypatch):
    config, run, split, first = scored
    load_rgb(split.train[0].path).rotate(90).save(split.train[0].path)
    calls = []
    real_score = score_stage.score_images
    monkeypatch.setattr(score_stage, "score_images", lambda clip, records, *a: calls.append(records) or real_score(clip, records, *a))
    again = run_score_stage(config, run)
    assert [len(batch) for batch in calls] == [1] and calls[0][0].path == split.train[0].path
    assert again[0].sha256 != first[0].sha256 and again[1:] == first[1:]
