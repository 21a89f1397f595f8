"""The Python API: `dalda` exports the config, `run` and an `Augmenter` that makes synthetic images for PIL
images or a `datasets.Dataset` in memory (tiny models, CPU)."""

from __future__ import annotations

import datasets
import pytest
from PIL import Image

import dalda


def _config(tmp_path):
    return dalda.load_config(
        None,
        [
            f"out_dir={tmp_path / 'run'}",
            "models.profile=tiny",
            "models.device=cpu",
            "prompts.backend=template",
            "prompts.num_prompts=1",
            "plan.images_per_real=1",
            "generator.steps=2",
            "generator.resolution=64",
        ],
    )


def test_augmenter_makes_images_with_their_metadata_for_pil_images_and_a_dataset(tmp_path):
    assert {"Augmenter", "DaldaConfig", "load_config", "run"} <= set(dir(dalda))
    images = [Image.new("RGB", (48, 48), color) for color in ((200, 30, 30), (30, 200, 30), (30, 30, 200))]
    labels, names = [1, 0, 1], ["sunflower", "bulldog"]
    augmenter = dalda.Augmenter(_config(tmp_path))
    made = augmenter.augment(images, labels, class_names=names)
    assert len(made) == 3
    assert sorted((m.source_index, m.label, m.class_name) for m in made) == [
        (0, 1, "bulldog"), (1, 0, "sunflower"), (2, 1, "bulldog")
    ]
    assert all(m.image.size == (48, 48) and m.prompt and m.seed is not None for m in made)
    assert all(m.ip_scale is not None and 0 <= m.ip_scale <= 1 for m in made)

    # The same images as a datasets.Dataset with a ClassLabel column resume the same run: nothing regenerated.
    features = datasets.Features({"image": datasets.Image(), "label": datasets.ClassLabel(names=names)})
    dataset = datasets.Dataset.from_dict({"image": images, "label": labels}, features=features)
    again = augmenter.augment_dataset(dataset)
    assert [(m.path, m.seed, m.prompt) for m in again] == [(m.path, m.seed, m.prompt) for m in made]

    with pytest.raises(ValueError, match="another image"):
        augmenter.augment(images[::-1], labels, class_names=names)
    with pytest.raises(ValueError, match="not a ClassLabel"):
        augmenter.augment_dataset(datasets.Dataset.from_dict({"image": images, "label": labels}))
    with pytest.raises(ValueError, match="one label per image"):
        augmenter.augment(images, labels[:2], class_names=names)
