"""The pixel store of train.protocol=authors: each image decoded and resized once, the very pixels of the per-draw
decode it replaces, in memory or memory-mapped past its limit; and the fits that read it draw what they drew."""

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision.transforms import InterpolationMode
from torchvision.transforms import functional as TF

from dalda.images import UnreadableImageError, load_rgb
from dalda.probes.augment import FlipRotateDraws, normalise
from dalda.probes.transforms import AUTHORS_MEAN, AUTHORS_STD, PLAIN_VIEW, ImageTransform
from dalda.training import trainer
from dalda.training.classifier import train_classifier, training_seed
from dalda.training.pixel_store import build_pixel_store
from dalda.training.sampling import MixingSampler
from dalda.training.trainset import load_training_set
from test_training_support import make_run, tiny_run_config


def _pictures(folder):
    """A photo-sized JPEG, a PNG with transparency, a greyscale PNG and a tiny palette GIF."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / "photo.jpg", folder / "alpha.png", folder / "grey.png", folder / "palette.gif"]
    Image.fromarray(rng.integers(0, 256, (375, 500, 3), dtype=np.uint8)).save(paths[0], quality=90)
    Image.fromarray(rng.integers(0, 256, (64, 48, 4), dtype=np.uint8), "RGBA").save(paths[1])
    Image.fromarray(rng.integers(0, 256, (30, 90), dtype=np.uint8), "L").save(paths[2])
    Image.fromarray(rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)).convert("P").save(paths[3])
    return paths


@pytest.mark.parametrize("size", [32, 224])
def test_rows_are_the_pixels_of_todays_decode_and_resize(tmp_path, size):
    paths = _pictures(tmp_path / "images")
    store = build_pixel_store(paths, size, memory_limit=1e9, spill_dir=tmp_path / "spill", workers=0)
    assert store.in_memory and len(store) == len(paths) and store.image_size == size
    pixels = store.gather(store.rows_of(paths))
    transform = ImageTransform(size, AUTHORS_MEAN, AUTHORS_STD)
    for path, stored in zip(paths, pixels):
        image = load_rgb(path)
        resized = TF.resize(image, [size, size], interpolation=InterpolationMode.BILINEAR)
        assert stored.dtype == torch.uint8 and torch.equal(stored, TF.pil_to_tensor(resized))
        # normalised on the device, the plain view the evaluation encodes is today's, bit for bit
        assert torch.equal(normalise(stored, AUTHORS_MEAN, AUTHORS_STD), transform(image, PLAIN_VIEW, ""))


def test_a_store_past_its_memory_limit_is_mapped_from_a_file_that_leaves_no_trace(tmp_path):
    paths = _pictures(tmp_path / "images")
    in_memory = build_pixel_store(paths, 32, memory_limit=1e9, spill_dir=tmp_path / "spill", workers=0)
    mapped = build_pixel_store(paths, 32, memory_limit=3 * 32 * 32, spill_dir=tmp_path / "spill", workers=0)
    assert in_memory.in_memory and not mapped.in_memory
    assert mapped.describe()["bytes"] == len(paths) * 3 * 32 * 32
    rows = np.array([3, 0, 0, 2])
    assert torch.equal(mapped.gather(rows), in_memory.gather(rows))
    assert list((tmp_path / "spill").iterdir()) == []  # the mapping has no name on disk


def test_decoding_threads_fill_the_same_rows_and_a_path_repeats_once(tmp_path):
    paths = _pictures(tmp_path / "images")
    one = build_pixel_store(paths, 40, memory_limit=1e9, spill_dir=tmp_path, workers=0)
    threads = build_pixel_store(paths + paths[:2], 40, memory_limit=1e9, spill_dir=tmp_path, workers=3)
    assert len(threads) == len(paths)
    assert torch.equal(threads.gather(threads.rows_of(paths)), one.gather(one.rows_of(paths)))


def test_an_unknown_path_or_an_unreadable_file_is_named(tmp_path):
    paths = _pictures(tmp_path / "images")
    store = build_pixel_store(paths, 16, memory_limit=1e9, spill_dir=tmp_path, workers=0)
    with pytest.raises(ValueError, match="elsewhere.png"):
        store.rows_of([tmp_path / "elsewhere.png"])
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    with pytest.raises(UnreadableImageError, match="broken.png"):
        build_pixel_store([*paths, broken], 16, memory_limit=1e9, spill_dir=tmp_path, workers=2)


def test_an_authors_fit_trains_on_the_samplers_draws_with_todays_pixels(tmp_path, monkeypatch):
    """The draws are the mixing sampler's for the fit's seed, in order; each draw's pixels are the image decoded,
    resized, flipped and rotated as the per-draw PIL path did (up to the rotation's rounding at a few pixels)."""
    train = {"protocol": "authors", "epochs": 2, "iterations_per_epoch": 3, "eval_draws": 8, "classifiers": ["clip"]}
    config = tiny_run_config(tmp_path, train=train)
    run, split = make_run(config, images_per_real=2)
    training_set = load_training_set(split, run)
    seen: list[np.ndarray] = []
    augmented: list[torch.Tensor] = []
    original_source = trainer.augmented_source

    def spying_source(encoder, store, item_rows, augment):
        def augment_and_keep(pixels):
            out = augment(pixels)
            augmented.append(out)
            return out

        features_of = original_source(encoder, store, item_rows, augment_and_keep)

        def recorded(batch):
            seen.append(batch.items.copy())
            return features_of(batch)

        return recorded

    monkeypatch.setattr("dalda.training.classifier.augmented_source", spying_source)
    trained = train_classifier(
        "clip", config, training_set, split.classes, run.features, eval_records=split.eval
    )  # fmt: skip
    assert trained.pixel_store["images"] == len(training_set.item_paths) + len(split.eval)

    seed = training_seed(config, "clip")
    sampler = MixingSampler(training_set.pool, config.train.synthetic_probability, config.train.batch_size, seed)
    expected = [batch.items for batch in sampler.batches(2 * 3)]
    assert len(seen) == len(expected) and all(np.array_equal(a, b) for a, b in zip(seen, expected))

    draws = FlipRotateDraws(seed)
    size = config.train.image_size
    differing = total = 0
    for items, got in zip(seen, augmented):
        flips, angles = draws.draw(len(items))
        for item, flip, angle, pixels in zip(items, flips, angles, got):
            image = TF.resize(load_rgb(training_set.item_paths[item]), [size, size], InterpolationMode.BILINEAR)
            image = TF.rotate(TF.hflip(image) if flip else image, float(angle), InterpolationMode.NEAREST, fill=0)
            before = TF.normalize(TF.to_tensor(image), AUTHORS_MEAN, AUTHORS_STD)
            differing += int((before != pixels).any(dim=0).sum())
            total += size * size
    assert differing / total < 0.005  # PIL's nearest rotation rounds a few sample positions the other way


def test_the_train_stage_decodes_once_for_every_classifier_and_reference(tmp_path, monkeypatch):
    from dalda.training import stage

    train = {"protocol": "authors", "epochs": 1, "iterations_per_epoch": 2, "eval_draws": 8}
    config = tiny_run_config(tmp_path, train=train, evaluate={"metrics": {"lpips": {"enabled": False}, "clip_i": {"enabled": False}}})
    run, _ = make_run(config, images_per_real=1)
    built = []
    original = stage.training_pixel_store
    monkeypatch.setattr(stage, "training_pixel_store", lambda *args: built.append(original(*args)) or built[-1])
    stage.run_train_stage(config, run)
    assert len(built) == 1  # two classifiers, each with its real-only reference: four fits, one decode
    for classifier in ("resnet50", "clip"):
        assert run.reference_checkpoint_file(classifier).exists()
