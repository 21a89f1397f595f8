"""Issue 25, item 4 (outputs never become inputs) and issue 21, item 8 (data hygiene in general: content-identical
files, split-folder layouts by their common names in any case)."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from dalda import cli
from dalda.config import DataConfig
from dalda.data import load_dataset_index
from dalda.ownership import claim, refuse_inside_data


def _png(path: Path, shade: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 6), (shade % 256, 80, 160)).save(path, format="PNG")


def _folder(root: Path, classes: dict[str, int], start: int = 0) -> Path:
    for offset, (name, count) in enumerate(classes.items()):
        for i in range(count):
            _png(root / name / f"{i}.png", shade=start + offset * 100 + i * 7)
    return root


def _index(root: Path):
    return load_dataset_index(DataConfig(dataset="imagefolder", root=root), root.parent / ".cache")


# ---------------------------------------------------------------------------------------- outputs never inputs


@pytest.mark.parametrize("inside", ["cat/run", "run", "."])
def test_a_run_inside_the_data_root_is_refused_before_anything_is_written(tmp_path, inside):
    root = _folder(tmp_path / "data", {"cat": 3, "dog": 3})
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    out = root / inside
    result = CliRunner().invoke(cli.app, ["run", "-o", str(out), "-s", "data.dataset=imagefolder",
                                          "-s", f"data.root={root}", "-s", "models.profile=tiny"])
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code == 1 and len(lines) == 1, result.stderr
    assert "inside data.root" in lines[0] and str(out.resolve()) in lines[0]
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before


def test_an_export_inside_the_data_root_is_refused(tmp_path):
    root = tmp_path / "data"
    with pytest.raises(ValueError, match=r"the export folder .* is inside data\.root"):
        refuse_inside_data(root / "dog" / "export", root, "the export folder")
    refuse_inside_data(tmp_path / "elsewhere", root, "the export folder")  # beside it: fine


def test_a_run_directory_moved_into_the_data_is_not_indexed(tmp_path, caplog):
    root = _folder(tmp_path / "data", {"cat": 2, "dog": 2})
    run = claim(root / "cat" / "old-run")  # carries dalda's marker
    _png(run.root / "report" / "figure.png", 1)
    _png(run.root / "synthetic" / "cat" / "000001.png", 2)
    caplog.set_level(logging.WARNING)
    index = _index(root)
    assert sorted(r.path.name for r in index.trainval) == ["0.png", "0.png", "1.png", "1.png"]
    assert "old-run" in caplog.text and "dalda run directory" in caplog.text


# ------------------------------------------------------------------------------------------------ data hygiene


@pytest.mark.parametrize(("train", "evaluation"), [
    ("Train", "Test"), ("TRAIN", "VAL"), ("training", "Validation"), ("train", "valid"), ("Training", "testing"),
    ("trainval", "test"), ("train", "Eval"), ("Train", "dev"),
])
def test_split_layouts_are_found_by_their_common_names_in_any_case(tmp_path, caplog, train, evaluation):
    root = tmp_path / "data"
    _folder(root / train, {"cat": 2, "dog": 2})
    _folder(root / evaluation, {"cat": 1, "dog": 1}, start=50)
    caplog.set_level(logging.INFO)
    index = _index(root)
    assert index.classes == ["cat", "dog"]
    assert index.test is not None and len(index.test) == 2
    assert "split folders" in caplog.text and f"official test split from {root / evaluation}" in caplog.text


def test_train_beside_other_classes_is_still_classes(tmp_path, caplog):
    root = _folder(tmp_path / "data", {"Train": 2, "Test": 2, "car": 2})
    caplog.set_level(logging.INFO)
    index = _index(root)
    assert index.classes == ["Test", "Train", "car"] and index.test is None
    assert "(class folders)" in caplog.text


def _split(root: Path, tmp_path: Path, shots: int = 1):
    from dalda.configure import build_config
    from dalda.data.stage import run_data_stage
    from dalda.rundir import RunDir

    config = build_config({"out_dir": str(tmp_path / "run"), "data": {
        "dataset": "imagefolder", "root": str(root), "shots": shots, "eval_split": "trainval-rest"}})
    return run_data_stage(config, RunDir(tmp_path / "run"))


@pytest.mark.parametrize("copies", [1, 3])
def test_byte_identical_copies_never_sit_on_both_sides_of_the_split(tmp_path, caplog, copies):
    root = _folder(tmp_path / "data", {"cat": 4, "dog": 4})
    for cls in ("cat", "dog"):  # every image of the class copied under new names: whichever is drawn has twins
        for image in sorted((root / cls).glob("*.png")):
            for k in range(copies):
                shutil.copyfile(image, image.with_name(f"copy{k}_{image.name}"))
    caplog.set_level(logging.WARNING)
    split = _split(root, tmp_path)
    digest = lambda path: Path(path).read_bytes()  # noqa: E731
    trained = {digest(record.path) for record in split.train}
    assert not trained & {digest(record.path) for record in split.eval}
    assert "byte-identical copies of training images" in caplog.text


def test_the_draw_takes_no_copy_of_an_image_it_already_took(tmp_path, caplog):
    from dalda.data import make_split

    root = _folder(tmp_path / "data", {"cat": 1, "dog": 2})
    for k in range(6):  # cat: one image and six copies of it, plus one other
        shutil.copyfile(root / "cat" / "0.png", root / "cat" / f"copy{k}.png")
    _png(root / "cat" / "other.png", 200)
    index = _index(root)
    index.test = []
    caplog.set_level(logging.WARNING)
    for trial in range(4):
        split = make_split(index, shots=2, trial=trial, eval_split="test")
        cats = [record.path for record in split.train if record.label == 0]
        assert len({Path(path).read_bytes() for path in cats}) == 2
    with pytest.raises(ValueError, match=r"class 'cat' has 8 images .* 6 of them copies of another"):
        make_split(index, shots=3, trial=0, eval_split="test")
