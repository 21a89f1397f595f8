"""The SigLIP and VQA alignment scorers, ``guidance.alpha_quantile`` and the plan's record of the scorer.

Numbers are checked against the models' own computations (``SiglipModel.forward``'s logits,
``BlipForQuestionAnswering.generate``'s first-step scores) on the tiny profile, and the ``real`` loading path is
exercised offline on tiny checkpoints saved in the published folder layout.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from tiny_checkpoints import write_tiny_blip_vqa, write_tiny_siglip

from dalda.artefacts import PlanRow
from dalda.config import ModelsConfig
from dalda.configure import ConfigError, build_config
from dalda.data.stage import run_data_stage
from dalda.io import read_jsonl, write_jsonl_atomic
from dalda.models.blip_vqa import load_vqa
from dalda.models.siglip import load_siglip
from dalda.pipeline import prepare_run
from dalda.planning.stage import run_plan_stage
from dalda.guidance import SamplingContext, bind
from dalda.scorers import SCORERS, SiglipSettings, VqaSettings
from dalda.scorers.vqa_forward import vqa_question
from dalda.scoring.stage import run_score_stage

CLASSES = ["cat", "sunflower", "golden retriever"]
TEMPLATE = "a photo of a {}"
TINY_MODELS = ModelsConfig(profile="tiny", device="cpu")
SIGLIP, VQA = SiglipSettings(), VqaSettings()  # the entries' defaults


def _measure(variant, models, settings, images, labels):
    """One scorer's measurements, loaded as the score stage loads it."""
    return SCORERS.get(variant).load(models, settings, CLASSES, TEMPLATE, "score")(images, labels)


def _images(count: int = 4) -> list[Image.Image]:
    rng = np.random.default_rng(0)
    return [Image.fromarray(rng.integers(0, 256, (40 + 8 * i, 48, 3), dtype=np.uint8)) for i in range(count)]


def _threshold(*overrides: str) -> float:
    """The α AGS uses for a config (bound as the score and plan stages bind it)."""
    config = build_config(overrides=list(overrides))
    context = SamplingContext(1, default_alpha=SCORERS.get(config.score.variant).default_alpha)
    return bind(config.guidance, context).threshold


def test_each_scorer_brings_its_own_default_alpha():
    assert _threshold("score.variant=siglip") == 0.3
    assert _threshold("score.variant=vqa") == 0.5
    assert _threshold("score.variant=vqa", "guidance.alpha=0.2") == 0.2


def test_vqa_scorer_equals_the_models_own_yes_probability():
    labels = [0, 1, 2, 1]
    images = _images()
    measures = _measure("vqa", TINY_MODELS, VQA, images, labels)
    vqa = load_vqa(TINY_MODELS, VQA.model, "score.model")
    yes, no = vqa.token_id("yes"), vqa.token_id("no")
    for image, label, measured in zip(images, labels, measures, strict=True):
        # one image at a time through the model's own answer generation: no padding, the stock code path
        inputs = vqa.processor(images=image, text=vqa_question(TEMPLATE, CLASSES[label]), return_tensors="pt")
        out = vqa.model.generate(
            **inputs, output_scores=True, return_dict_in_generate=True, max_new_tokens=1, do_sample=False
        )
        first = out.scores[0].float().softmax(dim=-1)[0]
        assert measured["vqa_yes"] == pytest.approx(float(first[yes]), abs=1e-6)
        assert measured["vqa_no"] == pytest.approx(float(first[no]), abs=1e-6)
        assert SCORERS.get("vqa").value(measured) == pytest.approx(float(first[yes]), abs=1e-6)
    assert vqa_question(TEMPLATE, "cat") == "Is this a photo of a cat?"
    assert len({len(vqa.processor.tokenizer(vqa_question(TEMPLATE, name))["input_ids"]) for name in CLASSES}) > 1
    assert len({round(m["vqa_yes"], 4) for m in measures}) > 1  # the value depends on image and question


def test_siglip_scorer_is_the_softmax_of_the_models_own_logits():
    labels = [2, 0, 1, 0]
    images = _images()
    measures = _measure("siglip", TINY_MODELS, SIGLIP, images, labels)
    siglip = load_siglip(TINY_MODELS, SIGLIP.model, "score.model")
    tokens = siglip.tokenizer(
        [TEMPLATE.format(name) for name in CLASSES], padding="max_length", max_length=64, return_tensors="pt"
    )
    pixels = siglip.image_processor(images=images, return_tensors="pt")["pixel_values"]
    with torch.no_grad():
        logits = siglip.model(input_ids=tokens["input_ids"], pixel_values=pixels).logits_per_image
    for row, (label, measured) in enumerate(zip(labels, measures, strict=True)):
        assert measured["siglip_softmax"] == pytest.approx(float(logits[row].softmax(-1)[label]), abs=1e-5)
        assert measured["siglip_sigmoid"] == pytest.approx(float(logits[row, label].sigmoid()), abs=1e-5)
        assert 0.0 <= SCORERS.get("siglip").value(measured) <= 1.0


def test_real_profile_loads_siglip_and_vqa_from_the_published_layout(tmp_path):
    checkpoints = {
        "siglip": SiglipSettings(model=str(write_tiny_siglip(tmp_path / "siglip"))),
        "vqa": VqaSettings(model=str(write_tiny_blip_vqa(tmp_path / "blip-vqa"))),
    }
    real = ModelsConfig(profile="real", offline=True, device="cpu")
    images, labels = _images(3), [0, 1, 2]
    for variant, settings in checkpoints.items():
        loaded = _measure(variant, real, settings, images, labels)
        built = _measure(variant, TINY_MODELS, settings, images, labels)
        for a, b in zip(loaded, built, strict=True):
            assert a == pytest.approx(b, abs=1e-6)
        scorer = SCORERS.get(variant)
        assert scorer.identity(real, settings) == f"{variant}:{settings.model}"  # the checkpoint is the identity
        assert scorer.identity(real, settings) != scorer.identity(TINY_MODELS, settings)


def test_the_default_identities_are_the_ones_caches_were_written_with():
    """scores.jsonl and filter.jsonl written before the checkpoints were the scorers' settings stay valid."""
    real = ModelsConfig(profile="real")
    assert SCORERS.get("siglip").identity(real, SIGLIP) == "siglip:google/siglip-base-patch16-224"
    assert SCORERS.get("vqa").identity(real, VQA) == "vqa:Salesforce/blip-vqa-base"
    assert SCORERS.get("siglip").identity(TINY_MODELS, SIGLIP) == "tiny-random:siglip:google/siglip-base-patch16-224"
    assert SCORERS.get("softmax").identity(real, SCORERS.settings_model("softmax")()) == "openai/clip-vit-base-patch16"


def test_missing_checkpoint_names_the_field_of_the_section_that_chose_the_scorer(tmp_path):
    real = ModelsConfig(profile="real", offline=True, device="cpu")
    nowhere = VqaSettings(model=str(tmp_path / "nowhere"))
    for section in ("score", "filter"):
        with pytest.raises(Exception, match=rf"{section}\.model="):
            SCORERS.get("vqa").load(real, nowhere, CLASSES, TEMPLATE, section)


def _config(tmp_path, **guidance):
    return build_config(
        {
            "out_dir": str(tmp_path / "run"),
            "data": {"dataset": "demo", "root": str(tmp_path / "demo-data"), "shots": 2},
            "models": {"profile": "tiny", "device": "cpu"},
            "score": {"variant": "siglip"},
            "prompts": {"source": "base"},
            "plan": {"images_per_real": 3},
            "guidance": guidance,
        }
    )


def test_alpha_quantile_splits_the_dataset_and_the_plan_records_the_scorer(tmp_path):
    config = _config(tmp_path, alpha_quantile=0.5)
    run = prepare_run(config)
    run_data_stage(config, run)
    scores = run_score_stage(config, run)
    values = [score.value("siglip") for score in scores]
    alpha = float(np.quantile(values, 0.5))
    assert [score.group for score in scores] == ["low" if value <= alpha else "high" for value in values]
    rows = run_plan_stage(config, run)
    by_path = {score.path: score for score in scores}
    for row in rows:
        assert row.scorer == "siglip"
        assert row.clipscore == by_path[row.source_path].score
        assert row.group == by_path[row.source_path].group
        guidance = config.guidance
        low, high = (guidance.min_low, guidance.max_low) if row.group == "low" else (guidance.min_high, guidance.max_high)
        assert low <= row.ip_scale <= high
    assert {row.group for row in rows} == {"low", "high"}


def test_alpha_and_alpha_quantile_together_are_refused():
    with pytest.raises(ConfigError, match="alpha_quantile"):
        build_config(overrides=["guidance.alpha=0.3", "guidance.alpha_quantile=0.5"])


def test_plans_written_before_the_scorer_field_still_load(tmp_path):
    row = dict(row_id=0, class_name="cat", label=0, source_path="x.png", source_index=0, m=0, prompt="a photo")
    row.update(ip_scale=0.5, clipscore=0.9, group="high", seed=1, generator="ip-adapter", strength=None)
    write_jsonl_atomic(tmp_path / "plan.jsonl", [row])
    (loaded,) = PlanRow.read_all(tmp_path / "plan.jsonl")
    assert loaded.scorer is None and loaded.clipscore == 0.9
    assert read_jsonl(tmp_path / "plan.jsonl")[0] == row
