"""Dataset loaders: the demo, ImageFolder, and fake on-disk copies of the three torchvision datasets."""

from __future__ import annotations

import zlib

import logging
import os
from pathlib import Path

import numpy as np
import pytest
import scipy.io
from PIL import Image

from dalda.config import DataConfig
from dalda.data import load_dataset_index, make_split
from dalda.datasets.demo import DEMO_CLASSES


def _jpeg(path: Path, shade: int = 0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", (8, 6), (shade % 256, 80, 160))
    image.putpixel((0, 0), (zlib.crc32(str(path).encode()) % 256, shade // 256 % 256, 7))  # every file its own bytes
    image.save(path, format="PNG" if path.suffix == ".png" else "JPEG", quality=100)


# ---------------------------------------------------------------------------------------------- demo


def test_demo_is_byte_identical_across_builds_and_has_the_stated_classes(tmp_path: Path) -> None:
    first = load_dataset_index(DataConfig(dataset="demo"), tmp_path / "a")
    second = load_dataset_index(DataConfig(dataset="demo", root=tmp_path / "b"), tmp_path / "unused")
    assert first.classes == second.classes == ["circle", "square", "triangle", "stripes", "checkerboard"]
    assert first.test is None and len(first.trainval) == len(second.trainval) == 5 * 40
    assert [sum(r.label == label for r in first.trainval) for label in range(5)] == [40] * 5
    for one, two in zip(first.trainval, second.trainval, strict=True):
        assert one.path.parent == tmp_path / "a" / "demo" / DEMO_CLASSES[one.label]
        assert one.path.read_bytes() == two.path.read_bytes()
    with Image.open(first.trainval[0].path) as image:
        assert image.size == (64, 64) and image.mode == "RGB"
    assert len({r.path.read_bytes() for r in first.trainval}) == 200  # no two pictures alike


def test_demo_is_reused_and_checked(tmp_path: Path) -> None:
    index = load_dataset_index(DataConfig(dataset="demo"), tmp_path)
    stamp = index.trainval[0].path.stat().st_mtime_ns
    assert load_dataset_index(DataConfig(dataset="demo"), tmp_path) == index
    assert index.trainval[0].path.stat().st_mtime_ns == stamp
    Image.new("RGB", (4, 4)).save(tmp_path / "demo" / "circle" / "extra.png")
    with pytest.raises(ValueError, match=r"demo/circle holds 41 PNG files, expected 40"):
        load_dataset_index(DataConfig(dataset="demo"), tmp_path)


# ---------------------------------------------------------------------------------------- imagefolder


def _imagefolder(cfg_root: Path) -> DataConfig:
    return DataConfig(dataset="imagefolder", root=cfg_root)


def test_imagefolder_reads_classes_and_ignores_hidden_and_non_images(tmp_path: Path) -> None:
    _jpeg(tmp_path / "golden_retriever" / "a.JPG")
    _jpeg(tmp_path / "golden_retriever" / "nested" / "b.jpeg")
    _jpeg(tmp_path / "golden_retriever" / "._a.jpg")
    _jpeg(tmp_path / "golden_retriever" / ".cache" / "c.jpg")
    (tmp_path / "golden_retriever" / "readme.txt").write_text("notes")
    _jpeg(tmp_path / "cat" / "x.png")
    _jpeg(tmp_path / ".ipynb_checkpoints" / "y.jpg")
    index = load_dataset_index(_imagefolder(tmp_path), tmp_path / "cache")
    assert index.classes == ["cat", "golden retriever"]
    assert [(r.path.relative_to(tmp_path).as_posix(), r.label) for r in index.trainval] == [
        ("cat/x.png", 0),
        ("golden_retriever/a.JPG", 1),
        ("golden_retriever/nested/b.jpeg", 1),
    ]
    assert index.test is None


def test_imagefolder_with_train_and_test_folders_has_a_test_split(tmp_path: Path) -> None:
    for part, count in (("train", 3), ("test", 2)):
        for name in ("ant", "bee"):
            for i in range(count):
                _jpeg(tmp_path / part / name / f"{i}.jpg", i)
    index = load_dataset_index(_imagefolder(tmp_path), tmp_path / "cache")
    assert index.classes == ["ant", "bee"] and len(index.trainval) == 6 and len(index.test or []) == 4
    split = make_split(index, 3, 0, "test")
    assert all("/train/" in str(r.path) for r in split.train) and all("/test/" in str(r.path) for r in split.eval)

    _jpeg(tmp_path / "test" / "wasp" / "0.jpg")
    with pytest.raises(ValueError, match=r"same class folders.*only in test: \['wasp'\]"):
        load_dataset_index(_imagefolder(tmp_path), tmp_path / "cache")


def test_imagefolder_errors_name_the_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "nowhere")):
        load_dataset_index(_imagefolder(tmp_path / "nowhere"), tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=rf"{tmp_path / 'empty'} has no class sub-folders"):
        load_dataset_index(_imagefolder(tmp_path / "empty"), tmp_path)
    (tmp_path / "some" / "dog").mkdir(parents=True)
    _jpeg(tmp_path / "some" / "cat" / "0.jpg")
    with pytest.raises(ValueError, match=rf"{tmp_path / 'some' / 'dog'} holds no images"):
        load_dataset_index(_imagefolder(tmp_path / "some"), tmp_path)


# ------------------------------------------------------------------------- fake torchvision datasets


def _fake_pets(root: Path) -> None:
    """oxford-iiit-pet/images/<Breed>_<n>.jpg and annotations/{trainval,test}.txt as in the real archive."""
    base = root / "oxford-iiit-pet"
    (base / "annotations" / "trimaps").mkdir(parents=True)
    lines = {"trainval": [], "test": []}
    for label, (breed, species) in enumerate((("Abyssinian", 1), ("american_bulldog", 2), ("Bengal", 1)), 1):
        for n in range(1, 7):
            _jpeg(base / "images" / f"{breed}_{n}.jpg", n)
            lines["trainval" if n <= 4 else "test"].append(f"{breed}_{n} {label} {species} 1")
    for split, rows in lines.items():
        (base / "annotations" / f"{split}.txt").write_text("\n".join(rows) + "\n")


def _fake_flowers(root: Path) -> None:
    """flowers-102/jpg/image_NNNNN.jpg, imagelabels.mat (labels 1..102) and setid.mat (trnid/valid/tstid)."""
    base = root / "flowers-102"
    labels = np.array([1, 1, 1, 1, 2, 2, 2, 2, 102, 102, 102, 102])
    for image_id in range(1, len(labels) + 1):  # lossless, so no two files share their bytes (copies are one image)
        path = base / "jpg" / f"image_{image_id:05d}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (8, 6), (image_id % 256, image_id // 256, 160)).save(path, format="PNG")
    scipy.io.savemat(base / "imagelabels.mat", {"labels": labels[None, :]})
    scipy.io.savemat(
        base / "setid.mat",
        {"trnid": np.array([[1, 5, 9]]), "valid": np.array([[2, 6, 10]]), "tstid": np.array([[3, 4, 7, 8, 11, 12]])},
    )


def _fake_caltech(root: Path) -> None:
    """caltech101/101_ObjectCategories/<category>/image_NNNN.jpg (+ BACKGROUND_Google, Annotations)."""
    base = root / "caltech101"
    counts = {"BACKGROUND_Google": 2, "Faces": 3, "Faces_easy": 3, "Leopards": 4, "car_side": 5}
    for category, count in counts.items():
        for n in range(1, count + 1):
            _jpeg(base / "101_ObjectCategories" / category / f"image_{n:04d}.jpg", n)
    (base / "Annotations" / "Leopards").mkdir(parents=True)


def test_fake_pets_loads_through_torchvision(tmp_path: Path) -> None:
    _fake_pets(tmp_path)
    index = load_dataset_index(DataConfig(dataset="pets", root=tmp_path), tmp_path / "cache")
    assert index.classes == ["Abyssinian", "American Bulldog", "Bengal"]
    assert len(index.trainval) == 12 and len(index.test or []) == 6
    for record in index.trainval + (index.test or []):
        assert record.path.is_file() and record.path.is_absolute()
        assert record.path.name.lower().startswith(index.classes[record.label].lower().replace(" ", "_"))
    split = make_split(index, 2, 0, "test")
    assert len(split.train) == 6 and len(split.eval) == 6


def test_fake_flowers_loads_train_plus_val_as_trainval(tmp_path: Path) -> None:
    _fake_flowers(tmp_path)
    index = load_dataset_index(DataConfig(dataset="flowers102", root=tmp_path), tmp_path / "cache")
    assert len(index.classes) == 102
    assert index.classes[:3] == ["pink primrose", "hard-leaved pocket orchid", "canterbury bells"]
    assert index.classes[101] == "blackberry lily" and "pink-yellow dahlia" in index.classes
    trainval = {(r.path.name, r.label) for r in index.trainval}
    assert trainval == {
        ("image_00001.jpg", 0), ("image_00002.jpg", 0), ("image_00005.jpg", 1),
        ("image_00006.jpg", 1), ("image_00009.jpg", 101), ("image_00010.jpg", 101),
    }  # fmt: skip
    assert len(index.test or []) == 6 and all(r.path.is_file() for r in index.trainval + (index.test or []))


def test_fake_caltech_has_readable_names_and_no_test_split(tmp_path: Path) -> None:
    _fake_caltech(tmp_path)
    index = load_dataset_index(DataConfig(dataset="caltech101", root=tmp_path), tmp_path / "cache")
    assert index.classes == ["portrait", "face", "leopard", "car side"]
    assert [sum(r.label == label for r in index.trainval) for label in range(4)] == [3, 3, 4, 5]
    assert all(r.path.is_file() for r in index.trainval) and index.test is None
    with pytest.raises(ValueError, match="no official test split"):
        make_split(index, 1, 0, "test")
    assert len(make_split(index, 1, 0, "trainval-rest").train) == 4


def test_listed_but_absent_files_are_skipped_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    _fake_caltech(tmp_path)
    # torchvision numbers a category's images by counting its files, so a stray file invents image_0006.jpg
    (tmp_path / "caltech101" / "101_ObjectCategories" / "car_side" / ".DS_Store").write_bytes(b"")
    with caplog.at_level(logging.WARNING, logger="dalda.datasets"):
        index = load_dataset_index(DataConfig(dataset="caltech101", root=tmp_path), tmp_path / "cache")
    assert sum(r.label == 3 for r in index.trainval) == 5
    assert any("car_side/image_0006.jpg" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("dataset", "expected"),
    [
        ("pets", "oxford-iiit-pet/annotations/trainval.txt"),
        ("flowers102", "flowers-102/setid.mat"),
        ("caltech101", "caltech101/101_ObjectCategories/<category>/image_0001.jpg"),
    ],
)
def test_missing_dataset_explains_the_layout_and_the_download_switch(
    tmp_path: Path, dataset: str, expected: str
) -> None:
    with pytest.raises(FileNotFoundError, match="data.download=true") as caught:
        load_dataset_index(DataConfig(dataset=dataset, root=tmp_path), tmp_path / "cache")
    assert f"{tmp_path}/{expected}" in str(caught.value)
    assert os.listdir(tmp_path) == []  # nothing was created or downloaded
    with pytest.raises(ValueError, match=rf"data.dataset={dataset} needs data.root"):
        load_dataset_index(DataConfig(dataset=dataset), tmp_path / "cache")


# ------------------------------------------------------------------ the authors' splits (docs/protocol.md)


def _authors_split(dataset: str, root: Path, shots: int, trial: int):
    from dalda.datasets import DATASETS

    index = load_dataset_index(DataConfig(dataset=dataset, root=root), root / "cache")
    return index, make_split(index, shots, trial, "authors", halves=DATASETS.get(dataset).halves)


def _per_class(records) -> dict[int, int]:
    counts: dict[int, int] = {}
    for record in records:
        counts[record.label] = counts.get(record.label, 0) + 1
    return counts


def test_authors_pets_pool_is_half_of_trainval_and_evaluation_half_of_test(tmp_path: Path) -> None:
    _fake_pets(tmp_path)
    index, split = _authors_split("pets", tmp_path, 2, 0)
    trainval = {r.path for r in index.trainval}
    test = {r.path for r in index.test or []}
    assert {r.path for r in split.train} <= trainval  # shots from the first half of trainval.txt
    assert {r.path for r in split.eval} <= test  # every evaluation image comes from test.txt
    assert _per_class(split.eval) == {0: 1, 1: 1, 2: 1}  # the second half of 2 test images per breed
    with pytest.raises(ValueError, match=r"has 2 images to draw from .*data\.shots=3"):
        _authors_split("pets", tmp_path, 3, 0)  # the pool is half of 4 trainval images, not all of them
    evaluations = {tuple(sorted(str(r.path) for r in _authors_split("pets", tmp_path, 1, t)[1].eval)) for t in range(6)}
    assert len(evaluations) > 1  # the halves depend on the trial


def _fake_flowers_sized(root: Path, counts: dict[int, int]) -> None:
    """A Flowers copy with ``counts[label]`` images per official label, spread over the three official lists."""
    base = root / "flowers-102"
    labels = np.array([label for label, count in counts.items() for _ in range(count)])
    for image_id in range(1, len(labels) + 1):  # lossless, so no two files share their bytes (copies are one image)
        path = base / "jpg" / f"image_{image_id:05d}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (8, 6), (image_id % 256, image_id // 256, 160)).save(path, format="PNG")
    ids = np.arange(1, len(labels) + 1)
    scipy.io.savemat(base / "imagelabels.mat", {"labels": labels[None, :]})
    scipy.io.savemat(
        base / "setid.mat",
        {"trnid": ids[0::3][None, :], "valid": ids[1::3][None, :], "tstid": ids[2::3][None, :]},
    )


def test_authors_flowers_halves_all_images_so_sixteen_shots_work(tmp_path: Path) -> None:
    counts = {label: 32 for label in range(1, 103)} | {1: 40, 2: 33}  # every class needs 16 shots
    _fake_flowers_sized(tmp_path, counts)
    index, split = _authors_split("flowers102", tmp_path, 16, 1)
    assert len(index.trainval) + len(index.test or []) == sum(counts.values())
    assert set(_per_class(split.train).values()) == {16}
    eval_counts = _per_class(split.eval)
    assert (eval_counts[0], eval_counts[1], eval_counts[101]) == (20, 16, 16)  # an odd image goes to the pool
    assert not {r.path for r in split.train} & {r.path for r in split.eval}
    assert {r.path for r in split.eval} & {r.path for r in index.test or []}  # the official lists are not used
    with pytest.raises(ValueError, match=r"data\.shots=16"):
        make_split(index, 16, 1, "trainval-rest")  # dalda's other split: 10 of 27 trainval images per class


def test_authors_caltech_halves_every_class_by_the_trial(tmp_path: Path) -> None:
    _fake_caltech(tmp_path)
    index, split = _authors_split("caltech101", tmp_path, 1, 0)
    assert _per_class(split.train) == {0: 1, 1: 1, 2: 1, 3: 1}
    assert _per_class(split.eval) == {0: 1, 1: 1, 2: 2, 3: 2}  # second halves of 3, 3, 4, 5 images
    assert not {r.path for r in split.train} & {r.path for r in split.eval}
    halves = [_authors_split("caltech101", tmp_path, 1, t)[1].eval for t in range(4)]
    assert len({tuple(sorted(str(r.path) for r in h)) for h in halves}) > 1
    again = _authors_split("caltech101", tmp_path, 1, 0)[1]
    assert again == split  # same trial, same halves


def test_authors_is_the_default_split_and_the_data_stage_uses_the_entry_recipe(tmp_path: Path) -> None:
    from dalda.configure import build_config
    from dalda.data import run_data_stage
    from dalda.rundir import RunDir

    _fake_pets(tmp_path)
    config = build_config(overrides=[f"data.root={tmp_path}", "data.dataset=pets", f"out_dir={tmp_path / 'run'}"])
    assert config.data.eval_split == "authors"
    run = RunDir(config.out_dir)
    split = run_data_stage(config, run)
    assert split.eval_split == "authors"
    index = load_dataset_index(config.data, tmp_path / "cache")
    assert {r.path for r in split.eval} <= {r.path for r in index.test or []}
