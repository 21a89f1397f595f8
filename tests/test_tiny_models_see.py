"""The tiny vision models tell images apart (``random_profiles.init_sighted_patch_embedding``).

A test on a blind random model cannot catch a broken image path: before this, the tiny BLIP VQA gave the same
p(yes) to a black, a white and a noise image. Each tiny model here must give different embeddings or scores to
flat colours and noise, and build to the same weights every time.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from PIL import Image

from dalda.config import ModelsConfig
from dalda.models.blip_vqa import load_vqa
from dalda.models.clip import load_clip
from dalda.models.dino import load_dino
from dalda.models.random_profiles import init_sighted_patch_embedding, seeded
from dalda.models.siglip import load_siglip
from dalda.scorers import SCORERS, SiglipSettings, VqaSettings

TINY = ModelsConfig(profile="tiny", device="cpu")
CLASSES = ["cat", "sunflower"]


def _probes() -> dict[str, Image.Image]:
    noise = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    stripes = np.zeros((32, 32, 3), dtype=np.uint8)
    stripes[:, ::2] = 255
    return {
        "black": Image.new("RGB", (32, 32), (0, 0, 0)),
        "white": Image.new("RGB", (32, 32), (255, 255, 255)),
        "red": Image.new("RGB", (32, 32), (255, 0, 0)),
        "blue": Image.new("RGB", (32, 32), (0, 0, 255)),
        "noise": Image.fromarray(noise),
        "stripes": Image.fromarray(stripes),
    }


def _embedders():
    clip = load_clip(TINY)
    siglip = load_siglip(TINY, SiglipSettings().model, "score.model")
    dino = load_dino(TINY, "facebook/dinov2-small", "evaluate.metrics.dino.model")
    return {"clip": clip.encode_images, "siglip": siglip.encode_images, "dino": dino.encode_images}


@pytest.mark.parametrize("name", ["clip", "siglip", "dino"])
def test_tiny_embedders_tell_colour_brightness_and_texture_apart(name):
    probes = _probes()
    embeddings = _embedders()[name](list(probes.values()))
    for (a, x), (b, y) in itertools.combinations(zip(probes, embeddings, strict=True), 2):
        assert float(x @ y) < 0.99, f"{name} embeds {a} and {b} alike"


def test_tiny_vqa_answers_differ_between_black_white_and_noise():
    probes = _probes()
    vqa = load_vqa(TINY, VqaSettings().model, "score.model")
    yes = vqa.first_answer_distribution(list(probes.values()), ["Is this a photo of a cat?"] * len(probes))
    p_yes = yes[:, vqa.token_id("yes")].tolist()
    for (a, x), (b, y) in itertools.combinations(zip(probes, p_yes, strict=True), 2):
        assert abs(x - y) > 0.02 * max(x, y), f"p(yes) {x:.6f} for {a} and {y:.6f} for {b} barely differ"


@pytest.mark.parametrize("variant", ["softmax", "cosine", "siglip", "vqa"])
def test_every_scorer_measures_black_white_and_noise_differently(variant):
    probes = _probes()
    images = [probes["black"], probes["white"], probes["noise"]]
    scorer = SCORERS.get(variant)
    measure = scorer.load(TINY, SCORERS.settings_model(variant)(), CLASSES, "a photo of a {}", "score")
    # the raw measurements: a value clipped at zero (CLIPScore's max(cos, 0)) may tie where the model does not
    measured = [tuple(round(value, 4) for value in row.values()) for row in measure(images, [0, 0, 0])]
    assert len(set(measured)) == 3, measured


def test_sighted_patch_embedding_is_deterministic_and_reads_colour_and_texture():
    def build():
        conv = torch.nn.Conv2d(3, 16, kernel_size=8, stride=8)
        with seeded(3):
            init_sighted_patch_embedding(conv)
        return conv

    conv = build()
    assert torch.equal(conv.weight, build().weight) and not conv.bias.any()
    flat = torch.zeros(1, 3, 8, 8)
    flat[0, 0] = 1.0  # a red patch: the red filter answers, the texture filters do not
    with torch.no_grad():
        out = conv(flat).flatten()
        checker = (torch.arange(8).view(8, 1) + torch.arange(8).view(1, 8)) % 2 * 2.0 - 1.0
        checker_out = conv(checker.expand(1, 3, 8, 8)).flatten()
    assert out[0] == pytest.approx(1.0) and out[1] == pytest.approx(0.0) and out[3] == pytest.approx(1 / 3)
    assert torch.allclose(out[4:7], torch.zeros(3), atol=1e-6)
    assert abs(float(checker_out[6])) > 1.0 and float(checker_out[3]) == pytest.approx(0.0, abs=1e-6)
