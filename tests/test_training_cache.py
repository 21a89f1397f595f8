"""Training on cached features gives the same classifier as encoding every batch; the cache is keyed correctly."""

import pytest
import torch

from dalda.probes import PROBES
from dalda.training.classifier import train_classifier
from dalda.hashing import file_sha256
from dalda.probes.features import FeatureCache, cached_features
from dalda.training.trainset import load_training_set
from test_training_support import make_run, tiny_run_config


@pytest.mark.parametrize("views", [0, 2])
def test_cached_training_matches_encoding_every_batch(tmp_path, views):
    config = tiny_run_config(tmp_path, train={"iterations_per_epoch": 12, "epochs": 2, "augmented_views": views})
    run, split = make_run(config)
    training_set = load_training_set(split, run)
    trained = {
        mode: train_classifier("resnet50", config, training_set, split.classes, run.features, feature_mode=mode)
        for mode in ("cached", "encode")
    }
    cached, encoded = trained["cached"], trained["encode"]
    assert cached.sampling.as_dict() == encoded.sampling.as_dict()
    assert cached.sampling.synthetic_draws > 0
    for name, weight in cached.head.state_dict().items():
        assert torch.allclose(weight, encoded.head.state_dict()[name], atol=1e-5), name
    assert cached.fit.epoch_losses == pytest.approx(encoded.fit.epoch_losses, rel=1e-5)
    # With augmentation on, the draws really use augmented views (which differ from each other).
    if views:
        table = cached_features(
            cached.encoder, FeatureCache(run.features, cached.encoder.identity), [training_set.item_paths[0]],
            [file_sha256(training_set.item_paths[0])], [1, 2], 8, "test",
        )
        assert not torch.allclose(table[0, 0], table[0, 1])


def test_cache_is_reused_and_keyed_by_content_and_backbone(tmp_path):
    config = tiny_run_config(tmp_path)
    run, split = make_run(config, images_per_real=0)
    encoder = PROBES.get("resnet50").load_backbone(config, seed=0)
    paths = [record.path for record in split.train[:3]]
    digests = [file_sha256(path) for path in paths]

    first = cached_features(encoder, FeatureCache(run.features, encoder.identity), paths, digests, [0], 8, "test")
    cache = FeatureCache(run.features, encoder.identity)
    assert len(cache) == 3 and cache.path.parent == run.features
    calls = []
    original = encoder.module.forward
    encoder.module.forward = lambda pixels: calls.append(len(pixels)) or original(pixels)
    again = cached_features(encoder, cache, paths, digests, [0], 8, "test")
    assert calls == [] and torch.equal(first, again)  # everything came from the cache

    # A changed file gets a new key; another backbone identity gets another file.
    edited = tmp_path / "edited.png"
    edited.write_bytes(paths[0].read_bytes() + b"\0")
    assert file_sha256(edited) != digests[0]
    other = FeatureCache(run.features, encoder.identity.replace("size=32", "size=64"))
    assert other.path != cache.path and len(other) == 0


def test_cache_written_by_another_identity_is_not_used(tmp_path):
    cache = FeatureCache(tmp_path, "resnet50|a")
    cache.put("k:v0", torch.ones(3))
    cache.save()
    cache.path.rename(FeatureCache(tmp_path, "resnet50|b").path)
    assert len(FeatureCache(tmp_path, "resnet50|b")) == 0
