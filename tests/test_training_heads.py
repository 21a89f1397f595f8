"""The CLIP probe starts as CLIP's zero-shot classifier; the ResNet head is seeded."""

import torch

from dalda.config import TrainConfig
from dalda.models.clip import load_clip
from dalda.probes import PROBES
from dalda.probes.networks import ClipImageFeatures, zero_shot_head
from dalda.probes.networks import linear_head
from test_training_support import tiny_run_config

CLASSES = ["circle", "square", "triangle", "stripes", "checkerboard"]


def test_clip_head_init_equals_zero_shot_logits_and_predictions(tmp_path):
    config = tiny_run_config(tmp_path)
    clip = load_clip(config.models)
    pixels = torch.randn(12, 3, 32, 32, generator=torch.Generator().manual_seed(0))

    features = ClipImageFeatures(clip, image_size=32)(pixels)
    head = zero_shot_head(clip, CLASSES, "a photo of a {}")

    # CLIP's own zero-shot logits: logit_scale * cos(image, text of "a photo of a {class}").
    with torch.no_grad():
        outputs = clip.model(
            **clip.tokenizer([f"a photo of a {c}" for c in CLASSES], padding=True, return_tensors="pt"),
            pixel_values=pixels,
        )
        logits = head(features)
    assert torch.allclose(logits, outputs.logits_per_image, atol=1e-4)
    assert torch.equal(logits.argmax(1), outputs.logits_per_image.argmax(1))


def test_clip_features_are_clips_normalised_image_embeddings(tmp_path):
    clip = load_clip(tiny_run_config(tmp_path).models)
    pixels = torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = clip.model(
            **clip.tokenizer(["x"], return_tensors="pt"), pixel_values=pixels
        ).image_embeds
        got = ClipImageFeatures(clip, image_size=32)(pixels)
    assert torch.allclose(got, expected, atol=1e-5)
    assert torch.allclose(got.norm(dim=1), torch.ones(4), atol=1e-5)


def test_linear_head_is_seeded_and_optimisers_follow_the_authors():
    assert torch.equal(linear_head(8, 3, seed=5).weight, linear_head(8, 3, seed=5).weight)
    assert not torch.equal(linear_head(8, 3, seed=5).weight, linear_head(8, 3, seed=6).weight)
    cfg = TrainConfig()
    adam = PROBES.get("resnet50").optimizer(linear_head(8, 3, 0).parameters(), cfg)
    adamw = PROBES.get("clip").optimizer(linear_head(8, 3, 0).parameters(), cfg)
    assert type(adam) is torch.optim.Adam and adam.defaults["lr"] == 1e-4
    assert type(adamw) is torch.optim.AdamW
    assert adamw.defaults["lr"] == 2e-4 and adamw.defaults["weight_decay"] == 0.1
