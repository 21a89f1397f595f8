"""``data.eval_split=authors`` picks the authors' own files for Pets and Flowers102 (docs/protocol.md, Split).

The reference below restates, in our words, how the authors' dataset classes choose images: they read the
listing (Pets: the annotation file in its order; Flowers: every jpg sorted, labelled by ``imagelabels.mat``),
group it by class, make ONE ``numpy.random.default_rng(trial)`` per dataset object (train and evaluation each
make theirs), draw ``permutation(n)`` class after class in label order, keep half ``0`` (train) or ``1``
(evaluation) of ``array_split(.., 2)``, and for the train side keep the first ``shots`` ids of that half.
"""

from __future__ import annotations

import zlib

import random
from pathlib import Path

import numpy as np
import pytest
import scipy.io
from PIL import Image

from dalda.config import DataConfig
from dalda.data import load_dataset_index, make_split
from dalda.datasets import DATASETS


def _jpeg(path: Path, shade: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", (8, 8), (shade % 256, 40, 90))
    image.putpixel((0, 0), (zlib.crc32(str(path).encode()) % 256, shade // 256 % 256, 7))  # every file its own bytes
    image.save(path, quality=100) if path.suffix.lower() in (".jpg", ".jpeg") else image.save(path)


def _reference_pick(per_class: list[list[str]], trial: int, half: int, shots: int | None) -> set[str]:
    """The authors' selection from per-class listings in label order (module docstring)."""
    rng = np.random.default_rng(trial)
    picked: set[str] = set()
    for files in per_class:
        ids = np.array_split(rng.permutation(len(files)), 2)[half]
        if shots is not None:
            ids = ids[:shots]
        picked.update(files[i] for i in ids)
    return picked


def _fake_pets(root: Path, breeds: int, per_breed: int) -> None:
    """The official layout with annotation files whose line order is NOT the sorted order."""
    base = root / "oxford-iiit-pet"
    (base / "annotations").mkdir(parents=True)
    lines: dict[str, list[str]] = {"trainval": [], "test": []}
    for label in range(1, breeds + 1):
        name = f"Breed{label:02d}" if label % 2 else f"breed_{label:02d}"
        for n in range(1, per_breed + 1):
            _jpeg(base / "images" / f"{name}_{n}.jpg", n)
            lines["trainval" if n % 3 else "test"].append(f"{name}_{n} {label} {1 + label % 2} 1")
    shuffle = random.Random(5)
    for split, rows in lines.items():
        shuffle.shuffle(rows)
        (base / "annotations" / f"{split}.txt").write_text("\n".join(rows) + "\n")


def _pets_listing(root: Path, split: str, breeds: int) -> list[list[str]]:
    per_class: list[list[str]] = [[] for _ in range(breeds)]
    for line in (root / "oxford-iiit-pet" / "annotations" / f"{split}.txt").read_text().splitlines():
        image_id, class_id = line.split(" ")[:2]
        per_class[int(class_id) - 1].append(str(root / "oxford-iiit-pet" / "images" / f"{image_id}.jpg"))
    return per_class


def _fake_flowers(root: Path) -> np.ndarray:
    base = root / "flowers-102"
    rng = np.random.default_rng(11)
    labels = rng.permutation(np.repeat(np.arange(1, 103), rng.integers(4, 12, size=102)))
    for image_id in range(1, len(labels) + 1):
        _jpeg(base / "jpg" / f"image_{image_id:05d}.jpg", image_id)
    ids = np.arange(1, len(labels) + 1)
    scipy.io.savemat(base / "imagelabels.mat", {"labels": labels[None, :]})
    scipy.io.savemat(
        base / "setid.mat", {"trnid": ids[0::3][None, :], "valid": ids[1::3][None, :], "tstid": ids[2::3][None, :]}
    )
    return labels


def _flowers_listing(root: Path) -> list[list[str]]:
    labels = scipy.io.loadmat(root / "flowers-102" / "imagelabels.mat")["labels"][0]
    files = sorted(str(path) for path in (root / "flowers-102" / "jpg").glob("*.jpg"))
    per_class: list[list[str]] = [[] for _ in range(102)]
    for position, path in enumerate(files):
        per_class[labels[position] - 1].append(path)
    return per_class


def _dalda_split(dataset: str, root: Path, shots: int, trial: int):
    index = load_dataset_index(DataConfig(dataset=dataset, root=root), root / "cache")
    return make_split(index, shots, trial, "authors", halves=DATASETS.get(dataset).halves)


@pytest.mark.parametrize("trial", [0, 1, 2])
@pytest.mark.parametrize("shots", [1, 2])
def test_pets_authors_split_is_the_authors_files(tmp_path: Path, trial: int, shots: int) -> None:
    _fake_pets(tmp_path, breeds=5, per_breed=13)
    split = _dalda_split("pets", tmp_path, shots, trial)
    train = _reference_pick(_pets_listing(tmp_path, "trainval", 5), trial, 0, shots)
    evaluation = _reference_pick(_pets_listing(tmp_path, "test", 5), trial, 1, None)
    assert {str(r.path) for r in split.train} == train
    assert {str(r.path) for r in split.eval} == evaluation


@pytest.mark.parametrize("trial", [0, 2])
def test_flowers_authors_split_is_the_authors_files(tmp_path: Path, trial: int) -> None:
    _fake_flowers(tmp_path)
    listing = _flowers_listing(tmp_path)
    split = _dalda_split("flowers102", tmp_path, 2, trial)
    assert {str(r.path) for r in split.train} == _reference_pick(listing, trial, 0, 2)
    assert {str(r.path) for r in split.eval} == _reference_pick(listing, trial, 1, None)


def test_shots_are_the_first_ids_of_the_pool_not_a_second_draw(tmp_path: Path) -> None:
    _fake_pets(tmp_path, breeds=3, per_breed=13)
    one, four = (_dalda_split("pets", tmp_path, shots, 1).train for shots in (1, 4))
    assert set(one) <= set(four)
    pool = _reference_pick(_pets_listing(tmp_path, "trainval", 3), 1, 0, None)
    assert {str(r.path) for r in four} < pool  # a strict subset: the first 4 of each 5-image pool
