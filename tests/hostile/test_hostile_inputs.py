"""Issue 12, cases 5-9: hostile dataset folders and names, templates and prompts that must be refused.

Symlink loops and FIFOs in class folders, the ``train``/``val`` layout, a changed ``data.root`` on an existing
run, Unicode (NFD folder names vs NFC sentences) and names that collide after normalisation, templates without
``{}``, invisible or punctuation-only prompts, and one-class / never-evaluated datasets.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import unicodedata
from pathlib import Path

import pytest
from PIL import Image

from dalda.artefacts.split import ImageRecord, Split
from dalda.chat.request import ClassNameMatcher
from dalda.config import ConfigError, DataConfig
from dalda.configure import build_config
from dalda.data import load_dataset_index, make_split
from dalda.data.stage import run_data_stage
from dalda.datasets import DatasetIndex
from dalda.prompts.validation import PromptsError, validate_prompt_table
from dalda.rundir import RunDir


def _jpeg(path: Path, shade: int = 0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 6), (shade % 256, 80, 160)).save(path, format="JPEG")


def _folder(root: Path, classes: dict[str, int]) -> Path:
    for name, count in classes.items():
        for i in range(count):
            _jpeg(root / name / f"{i}.jpg", shade=i * 20)
    return root


def _index(root: Path):
    return load_dataset_index(DataConfig(dataset="imagefolder", root=root), root / ".cache")


def _config(tmp_path: Path, root: Path, **data):
    data = {"dataset": "imagefolder", "root": str(root), **data}
    return build_config({"out_dir": str(tmp_path / "run"), "data": data})


def test_a_symlink_loop_is_not_followed(tmp_path, caplog):
    root = _folder(tmp_path / "data", {"cat": 2, "dog": 2})
    os.symlink(".", root / "cat" / "loop")
    caplog.set_level(logging.WARNING)
    index = _index(root)
    cats = [r.path for r in index.trainval if r.label == 0]
    assert sorted(p.name for p in cats) == ["0.jpg", "1.jpg"]  # not 2 x 40 levels of cat/loop/loop/...
    assert all(p == p.resolve() for p in cats)
    assert "link loop" in caplog.text


def test_an_image_linked_into_two_classes_is_refused(tmp_path):
    root = _folder(tmp_path / "data", {"cat": 2, "dog": 2})
    os.symlink(root / "cat" / "0.jpg", root / "dog" / "alias.jpg")
    with pytest.raises(ValueError, match=r"cat/0.jpg is in class folder 'cat' and \(through a link\) in 'dog'"):
        _index(root)


def test_train_and_evaluation_overlap_is_checked_on_resolved_paths(tmp_path):
    real = tmp_path / "data" / "cat" / "0.jpg"
    _jpeg(real)
    link = tmp_path / "elsewhere" / "cat.jpg"
    link.parent.mkdir()
    os.symlink(real, link)  # a loader that does not resolve paths lists one file under two names
    index = DatasetIndex(name="x", classes=["cat"], trainval=[ImageRecord(real, 0)], test=[ImageRecord(link, 0)])
    with pytest.raises(RuntimeError, match="few-shot training and evaluation images overlap"):
        make_split(index, shots=1, trial=0, eval_split="test")


def test_a_fifo_named_jpg_is_skipped_without_hanging(tmp_path, caplog):
    root = _folder(tmp_path / "data", {"cat": 2, "dog": 2})
    os.mkfifo(root / "cat" / "pipe.jpg")
    caplog.set_level(logging.WARNING)
    result: list = []
    worker = threading.Thread(target=lambda: result.append(_index(root)), daemon=True)
    worker.start()
    worker.join(timeout=20)
    assert not worker.is_alive(), "indexing hung on a FIFO"
    assert "pipe.jpg" not in {r.path.name for r in result[0].trainval}
    assert "not a regular file" in caplog.text


@pytest.mark.parametrize("eval_name", ["val", "valid", "validation", "test"])
def test_train_plus_val_layouts_are_splits_not_classes(tmp_path, caplog, eval_name):
    root = tmp_path / "data"
    _folder(root / "train", {"cat": 2, "dog": 2})
    _folder(root / eval_name, {"cat": 1, "dog": 1})
    caplog.set_level(logging.INFO)
    index = _index(root)
    assert index.classes == ["cat", "dog"]
    assert index.test is not None and len(index.test) == 2
    assert f"official test split from {root / eval_name}" in caplog.text


def test_a_class_called_train_among_others_stays_a_class(tmp_path):
    root = _folder(tmp_path / "data", {"train": 2, "car": 2, "val": 2})
    index = _index(root)
    assert index.classes == ["car", "train", "val"] and index.test is None


def test_a_changed_data_root_is_detected_like_a_changed_shot_count(tmp_path):
    first = _folder(tmp_path / "a", {"cat": 2, "dog": 2})
    second = tmp_path / "b"  # other images under the same names: not the same data moved
    for name in ("cat", "dog"):
        for i in range(2):
            _jpeg(second / name / f"{i}.jpg", shade=100 + i * 20)
    run = RunDir(tmp_path / "run")
    split = run_data_stage(_config(tmp_path, first), run)
    assert split.root == str(first.resolve())
    assert json.loads(run.split.read_text())["root"] == str(first.resolve())
    run_data_stage(_config(tmp_path, first), run)  # same root: reused
    with pytest.raises(ValueError, match=r"drawn from data.root=.*/a but the config asks for data.root=.*/b"):
        run_data_stage(_config(tmp_path, second), run)
    # The same images copied elsewhere are the same data: the split is rebased onto them (issue 21, item 1).
    copy = _folder(tmp_path / "copy", {"cat": 2, "dog": 2})
    moved = run_data_stage(_config(tmp_path, copy), run)
    assert moved.root == str(copy.resolve()) and all(str(r.path).startswith(str(copy)) for r in moved.train)
    run_data_stage(_config(tmp_path, first), run)  # and back
    # A split written before roots were recorded still loads (and is not checked against the root).
    payload = json.loads(run.split.read_text())
    for record in payload["train"] + payload["eval"]:  # such splits stored absolute paths
        record["path"] = str(Path(payload["root"]) / record["path"])
    del payload["root"]
    run.split.write_text(json.dumps(payload))
    assert Split.read(run).root is None
    run_data_stage(_config(tmp_path, second), run)


def test_nfd_folder_names_match_nfc_sentences():
    lion = unicodedata.normalize("NFD", "Löwe")
    matcher = ClassNameMatcher(["cat", lion])
    assert matcher.others_mentioned("A cat next to a Löwe.", "cat") == [lion]
    assert matcher.others_mentioned("A Lo\u0308we at dusk.", lion) == []


@pytest.mark.parametrize(
    "names", [["a b", "a-b"], ["a b", "A B"], ["a_b", "a b"], [unicodedata.normalize("NFD", "Löwe"), "Löwe"]]
)
def test_class_names_that_collide_after_normalisation_are_rejected_at_the_data_stage(tmp_path, names):
    root = _folder(tmp_path / "data", {name: 2 for name in names})
    if len({p.name for p in root.iterdir()}) < len(names):
        pytest.skip("this file system normalises names itself")
    with pytest.raises(ValueError, match="class names that read as one name"):
        run_data_stage(_config(tmp_path, root), RunDir(tmp_path / "run"))


@pytest.mark.parametrize("field", ["score.template", "prompts.base_template", "train.probes.clip.template"])
def test_templates_without_a_class_slot_are_refused_at_config_time(field):
    with pytest.raises(ConfigError, match=rf"{field}='a photo' must contain exactly one '{{}}'"):
        build_config(overrides=[f"{field}=a photo"])


@pytest.mark.parametrize("prompt", ["", "   ", "\u200b", "\u200b \ufeff", ".", "...!?", " - "])
def test_empty_invisible_and_punctuation_only_prompts_are_refused(prompt):
    refused = "prompt 0 of class 'cat' is not usable: the sentence (is empty|has no words)"
    with pytest.raises(PromptsError, match=refused):
        validate_prompt_table({"cat": [prompt], "dog": ["A dog."]}, ["cat", "dog"], "prompts.json")


def test_one_class_and_classes_without_evaluation_images_warn_and_say_so(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    lonely = _folder(tmp_path / "one", {"cat": 4})
    split = run_data_stage(_config(tmp_path, lonely), RunDir(tmp_path / "run"))
    assert any("1 class: every classifier is trivially 100% accurate" in note for note in split.warnings())
    assert "trivially 100% accurate" in caplog.text
    sparse = _folder(tmp_path / "two", {"cat": 4, "dog": 1})  # dog's only image is its training image
    split = run_data_stage(_config(tmp_path, sparse, shots=1), RunDir(tmp_path / "run2"))
    assert split.warnings() == [
        "1 class(es) have no evaluation image ('dog'): accuracy says nothing about them; add images of those classes"
    ]
