"""Few-shot splits: deterministic per trial, disjoint, right counts, stable on disk, robust to bad files."""

from __future__ import annotations

import logging
import random
from pathlib import Path

import pytest
from PIL import Image

from dalda.config import DataConfig
from dalda.artefacts import Split
from dalda.data import load_dataset_index, make_split
from dalda.datasets import DatasetIndex, ImageRecord


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DatasetIndex:
    return load_dataset_index(DataConfig(dataset="demo"), tmp_path_factory.mktemp("cache"))


def _count(records: list[ImageRecord]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for record in records:
        counts[record.label] = counts.get(record.label, 0) + 1
    return counts


def test_same_trial_gives_identical_json_and_other_trials_differ(demo: DatasetIndex, tmp_path: Path) -> None:
    make_split(demo, 4, trial=0, eval_split="trainval-rest").write(tmp_path / "a.json")
    make_split(demo, 4, trial=0, eval_split="trainval-rest").write(tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    trains = [make_split(demo, 4, trial=t, eval_split="trainval-rest").train for t in range(3)]
    assert trains[0] != trains[1] and trains[1] != trains[2] and trains[0] != trains[2]


def test_counts_disjointness_and_a_trial_independent_eval_half(demo: DatasetIndex) -> None:
    splits = [make_split(demo, shots, trial, "trainval-rest") for shots in (1, 4) for trial in (0, 1)]
    for split in splits:
        assert _count(split.train) == {label: split.shots for label in range(5)}
        assert _count(split.eval) == {label: 20 for label in range(5)}  # 40 per class, cut in two halves
        assert not {r.path for r in split.train} & {r.path for r in split.eval}
        assert split.eval == splits[0].eval
        assert set(split.train) <= set(demo.trainval)
    one_shot, four_shot = make_split(demo, 1, 2, "trainval-rest"), make_split(demo, 4, 2, "trainval-rest")
    assert set(one_shot.train) <= set(four_shot.train)


def test_file_system_order_does_not_change_the_split(demo: DatasetIndex) -> None:
    shuffled = list(demo.trainval)
    random.Random(7).shuffle(shuffled)
    reordered = DatasetIndex(demo.name, demo.classes, shuffled, None)
    assert make_split(reordered, 2, 1, "trainval-rest") == make_split(demo, 2, 1, "trainval-rest")


def test_eval_cap_is_a_deterministic_subset_shared_by_trials(demo: DatasetIndex) -> None:
    full = make_split(demo, 2, 0, "trainval-rest")
    capped = make_split(demo, 2, 0, "trainval-rest", max_eval_per_class=3)
    assert _count(capped.eval) == {label: 3 for label in range(5)}
    assert set(capped.eval) <= set(full.eval)
    assert make_split(demo, 2, 1, "trainval-rest", max_eval_per_class=3).eval == capped.eval


def test_json_round_trip_gives_the_same_images(demo: DatasetIndex, tmp_path: Path) -> None:
    split = make_split(demo, 3, 1, "trainval-rest", max_eval_per_class=5)
    split.write(tmp_path / "split.json")
    again = Split.read(tmp_path / "split.json")
    assert again == split
    assert all(record.path.is_absolute() and record.path.is_file() for record in again.train + again.eval)


def test_malformed_split_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "split.json"
    path.write_text('{"dataset": "demo"}')
    with pytest.raises(ValueError, match="split.json"):
        Split.read(path)


def test_too_few_images_names_the_class_count_and_shots(demo: DatasetIndex) -> None:
    with pytest.raises(ValueError, match=r"class 'circle' has 20 images.*data\.shots=21"):
        make_split(demo, 21, 0, "trainval-rest")


def test_test_split_needs_an_official_test_set(demo: DatasetIndex) -> None:
    with pytest.raises(ValueError, match=r"'demo' has no official test split.*eval_split=authors or trainval-rest"):
        make_split(demo, 1, 0, "test")


def test_test_protocol_draws_from_all_trainval_and_evaluates_on_test(demo: DatasetIndex) -> None:
    test = [r for r in demo.trainval if int(r.path.stem) >= 30]
    trainval = [r for r in demo.trainval if int(r.path.stem) < 30]
    index = DatasetIndex("demo", demo.classes, trainval, test)
    split = make_split(index, 25, 0, "test")  # more than half of the 30: only possible from all of trainval
    assert _count(split.train) == {label: 25 for label in range(5)}
    assert sorted(split.eval, key=str) == sorted(test, key=str)


def _mixed_index(folder: Path, good: int, bad: int) -> DatasetIndex:
    """One class whose trainval holds ``good`` readable and ``bad`` unreadable files, plus a one-image test set."""
    records = []
    for i in range(good):
        Image.new("RGB", (8, 8), (i, 0, 0)).save(folder / f"good{i}.png")
        records.append(ImageRecord(folder / f"good{i}.png", 0))
    for i in range(bad):
        (folder / f"bad{i}.png").write_bytes(b"not a png")
        records.append(ImageRecord(folder / f"bad{i}.png", 0))
    Image.new("RGB", (8, 8)).save(folder / "test.png")
    return DatasetIndex("imagefolder", ["thing"], records, [ImageRecord(folder / "test.png", 0)])


def test_unreadable_drawn_images_are_reported_and_replaced(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    index = _mixed_index(tmp_path, good=5, bad=5)
    with caplog.at_level(logging.WARNING, logger="dalda.images"):
        split = make_split(index, 5, 0, "test")
    assert sorted(r.path.name for r in split.train) == [f"good{i}.png" for i in range(5)]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and r.name == "dalda.images"]
    assert warnings and all("bad" in message and str(tmp_path) in message for message in warnings)


def test_too_few_readable_images_is_an_error_saying_so(tmp_path: Path) -> None:
    index = _mixed_index(tmp_path, good=2, bad=3)
    with pytest.raises(ValueError, match=r"class 'thing' has 5 images.*3 of them unreadable.*data\.shots=3"):
        make_split(index, 3, 0, "test")
