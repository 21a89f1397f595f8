"""The report's accuracy side: reference rows, per-class accuracy, confusions, training curves, bold ties.

A tiny run (demo data, tiny models, a few steps) goes through train, evaluate and report once; the tests check
the page and its files against the results files the stages wrote.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import torch

from dalda.artefacts import Checkpoint, ClassifierResult
from dalda.config import config_to_yaml
from dalda.evaluation.accuracy import confusion_counts
from dalda.evaluation.stage import run_evaluate_stage
from dalda.report.figures import MAX_HEATMAP_CLASSES, gain_chart, heatmap, stored_curves
from dalda.report.page import SORT_SCRIPT, sortable_table
from dalda.report.stage import run_report_stage
from dalda.report.tables import ClassRow, Column, Table, top_confusions, zero_shot_accuracy
from dalda.training.stage import run_train_stage
from test_training_support import make_run, tiny_run_config

QUICK = {"metrics": {name: {"enabled": False} for name in ("lpips", "clip_i", "clip_i_real")}}


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A DALDA run with synthetic images, trained (with its real-only reference), evaluated and reported."""
    root = tmp_path_factory.mktemp("accuracy") / "base"
    root.mkdir()
    config = tiny_run_config(root, train={"classifiers": ["clip"], "epochs": 3}, evaluate=QUICK)
    run, split = make_run(config, images_per_real=2)
    run.config.write_text(config_to_yaml(config))
    run_train_stage(config, run)
    run_evaluate_stage(config, run)
    index = run_report_stage(config, run)
    return config, run, split, index


def test_reference_rows_equal_the_stored_results(finished):
    _, run, _, index = finished
    # The fixture writes its prompts with the offline template backend: the honest label is template-ags.
    own = ClassifierResult.read(run.result_file("clip"))
    reference = ClassifierResult.read(run.reference_result_file("clip"))
    assert own.method == "template-ags" and reference.method == "none" and reference.reference == "real_only"
    assert reference.num_synthetic == 0 and own.num_synthetic > 0
    rows = {row["Run"]: row for row in _rows(run.report / "tables" / "runs.csv")}
    assert float(rows["run"]["Acc-CLIP"]) == own.accuracy  # the run is named by its folder, not "."
    assert float(rows["Real images only (reference)"]["Acc-CLIP"]) == reference.accuracy
    assert float(rows["Zero-shot CLIP (reference)"]["Acc-CLIP"]) == own.zero_shot_clip_accuracy
    (tab2,) = [row for row in _rows(run.report / "tables" / "tab2_accuracy_2shot.csv")
               if row["Method"] == "Real images only (reference)"]  # fmt: skip
    assert float(tab2["Demo Acc-CLIP"]) == reference.accuracy
    page = index.read_text()
    references = re.findall(r"<tr class='reference'>(.*?)</tr>", page)
    assert len(references) == 4  # two in the runs table, two in Tab. 2
    assert all("<b>" not in row for row in references)


def test_real_only_reference_is_the_none_run_of_the_same_split(finished, tmp_path_factory):
    config, run, _, _ = finished
    root = tmp_path_factory.mktemp("accuracy") / "none"
    root.mkdir()
    none = tiny_run_config(
        root, train={"classifiers": ["clip"], "epochs": 3, "synthetic_probability": 0.0}, evaluate=QUICK
    )
    none = none.model_copy(update={"data": config.data})
    none_run, _ = make_run(none, images_per_real=0)
    run_train_stage(none, none_run)
    ours = Checkpoint.read(run.reference_checkpoint_file("clip"))
    theirs = Checkpoint.read(none_run.checkpoint_file("clip"))
    # Same draws and seeds; the cached features differ only in float rounding (the reference's cache was
    # filled in larger batches), so the heads agree to rounding, not bit for bit.
    assert all(torch.allclose(ours.head[key], theirs.head[key], rtol=0, atol=1e-6) for key in ours.head)
    assert not none_run.reference_checkpoint_file("clip").exists()  # a real-only run is its own reference


def test_reference_can_be_turned_off_and_a_stale_one_is_removed(finished):
    config, run, _, _ = finished
    off = config.model_copy(update={"train": config.train.model_copy(update={"real_only_reference": False})})
    try:
        run_train_stage(off, run)
        run_evaluate_stage(off, run)
        assert not run.reference_checkpoint_file("clip").exists()
        assert not run.reference_result_file("clip").exists()
    finally:  # leave the module's run as the other tests expect it
        run_train_stage(config, run)
        run_evaluate_stage(config, run)


def test_per_class_table_rows_match_the_results_files(finished):
    _, run, split, index = finished
    own = ClassifierResult.read(run.result_file("clip"))
    reference = ClassifierResult.read(run.reference_result_file("clip"))
    rows = _rows(run.report / "tables" / "per_class_run_clip.csv")
    assert [row["Class"] for row in rows] == split.classes
    for row in rows:
        name = row["Class"]
        assert float(row["This run"]) == own.per_class_accuracy[name]
        assert float(row["Real only (reference)"]) == reference.per_class_accuracy[name]
        assert float(row["Zero-shot CLIP (reference)"]) == own.zero_shot_clip_per_class_accuracy[name]
        assert float(row["Gain over real only"]) == pytest.approx(
            own.per_class_accuracy[name] - reference.per_class_accuracy[name], abs=1e-15
        )
        assert int(row["Eval images"]) == own.per_class_count[name]
    page = index.read_text()
    assert "<table class='sortable'>" in page and "table.sortable" in page and "<script" in page
    assert "src=\"http" not in page and "<script src" not in page  # self-contained
    assert 'data-file="figures/per_class_gain_run_clip.png"' in page


def test_evaluate_stores_confusions_that_match_the_per_class_accuracy(finished):
    _, run, split, _ = finished
    result = ClassifierResult.read(run.result_file("clip"))
    matrix = result.confusion
    assert len(matrix) == len(split.classes) and all(len(row) == len(split.classes) for row in matrix)
    for i, name in enumerate(split.classes):
        assert sum(matrix[i]) == result.per_class_count[name]
        assert matrix[i][i] / sum(matrix[i]) == pytest.approx(result.per_class_accuracy[name], abs=1e-6)
    listed = _rows(run.report / "tables" / "confusions_run_clip.csv")
    off_diagonal = sum(matrix[i][j] for i in range(len(matrix)) for j in range(len(matrix)) if i != j)
    assert sum(int(row["Count"]) for row in listed) == off_diagonal


def test_top_confusions_of_a_toy_prediction_set():
    classes = ["cat", "dog", "fox"]
    labels = torch.tensor([0, 0, 0, 0, 1, 1, 1, 2, 2])
    predicted = torch.tensor([0, 1, 1, 2, 1, 0, 0, 2, 1])
    matrix = confusion_counts(predicted, labels, 3)
    assert matrix == [[1, 2, 1], [2, 1, 0], [0, 1, 1]]
    top = [(c.true, c.predicted, c.count, c.share) for c in top_confusions(matrix, classes)]
    assert top == [
        ("cat", "dog", 2, 0.5), ("dog", "cat", 2, pytest.approx(2 / 3)), ("cat", "fox", 1, 0.25),
        ("fox", "dog", 1, 0.5),
    ]  # fmt: skip
    assert top_confusions(matrix, classes, limit=1)[0].count == 2
    with pytest.raises(ValueError, match="does not fit"):
        top_confusions(matrix, classes[:2])


def test_heatmap_only_for_few_classes_and_gain_chart_for_many(tmp_path):
    many = [f"class {i}" for i in range(MAX_HEATMAP_CLASSES + 1)]
    square = [[1] * len(many) for _ in many]
    assert heatmap(square, many, "t", "clip", tmp_path / "big.png") is None
    assert heatmap(square[:5], many[:5], "t", "clip", tmp_path / "small.png") == tmp_path / "small.png"
    rows = [ClassRow(f"class {i}", 10, 0.5, 0.4, i / 100) for i in range(100)]
    assert gain_chart(rows, "t", "clip", tmp_path / "gain.png").stat().st_size > 0


def test_training_curves_are_stored_and_plotted(finished):
    _, run, _, index = finished
    result = ClassifierResult.read(run.result_file("clip"))
    assert len(result.training["epoch_losses"]) == 3
    accuracies = result.training["epoch_train_accuracies"]
    assert len(accuracies) == 3 and all(0.0 <= value <= 1.0 for value in accuracies)
    scored = result.training["epoch_eval_accuracies"]  # fast: every epoch on the cached evaluation features
    assert [entry["epoch"] for entry in scored] == [1, 2, 3]
    assert scored[-1]["micro_accuracy"] == pytest.approx(result.micro_accuracy, abs=1e-6)
    assert scored[-1]["macro_accuracy"] == pytest.approx(result.macro_accuracy, abs=1e-6)
    assert [name for name in stored_curves(result)] == [
        "loss", "training accuracy", "evaluation macro accuracy", "evaluation micro accuracy"
    ]
    assert (run.report / "figures" / "curves_run_clip.png").stat().st_size > 0
    manifest = json.loads((run.report / "manifest.json").read_text())
    assert "figures/curves_run_clip.png" in {entry["file"] for entry in manifest["figures"]}
    assert 'data-file="figures/curves_run_clip.png"' in index.read_text()


def test_authors_protocol_trains_its_reference_and_stores_every_epoch(tmp_path):
    train = {"classifiers": ["clip"], "epochs": 2, "iterations_per_epoch": 2, "batch_size": 4, "protocol": "authors",
             "eval_draws": 8}  # fmt: skip
    config = tiny_run_config(tmp_path, train=train, evaluate={**QUICK, "zero_shot": False})
    run, _ = make_run(config, images_per_real=1)
    run_train_stage(config, run)
    run_evaluate_stage(config, run)
    for path in (run.result_file("clip"), run.reference_result_file("clip")):
        result = ClassifierResult.read(path)
        assert result.protocol == "authors" and [entry["epoch"] for entry in result.epochs] == [1, 2]
        assert len(result.training["epoch_train_accuracies"]) == 2
    assert ClassifierResult.read(run.reference_result_file("clip")).num_synthetic == 0


def test_only_a_unique_best_is_bold_and_references_never_are():
    columns = [Column("Method"), Column("Acc", better="higher")]
    tied = Table("t", "partly tied", columns, [["a", 0.7], ["b", 0.7], ["c", 0.5]])
    assert "**" not in tied.markdown() and "<b>" not in tied.html()
    assert tied.markdown().count("0.7000 (tie)") == 2
    reference = Table("t", "with a reference", columns, [["a", 0.6], ["b", 0.5], ["ref", 0.9]], references={2})
    assert "**0.6000**" in reference.markdown() and "0.9000" in reference.markdown()
    assert "<b>0.9000</b>" not in reference.html() and "<tr class='reference'>" in reference.html()


def _sorted_classes(page: str, clicks: list[int], tmp_path: Path) -> list[str]:
    """The first column of a sortable table after clicking the given header indices, in headless Chromium."""
    script = "".join(f"document.querySelectorAll('th')[{i}].click();" for i in clicks)
    path = tmp_path / f"sort-{'-'.join(map(str, clicks))}.html"
    path.write_text(page.replace("</body>", f"<script>{script}</script></body>"))
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    dom = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", path.as_uri()],
        capture_output=True, text=True, timeout=60,
    ).stdout  # fmt: skip
    return re.findall(r"<tr><td data-value=\"([^\"]*)\"", dom)


@pytest.mark.skipif(not (shutil.which("chromium") or shutil.which("chromium-browser")), reason="needs Chromium")
def test_clicking_a_header_sorts_numbers_as_numbers_with_empty_cells_last(tmp_path):
    table = sortable_table(["Class", "Gain"], [["b", 0.5], ["a", None], ["c", -0.25], ["d", 0.75]], signed=(1,))
    page = f"<!DOCTYPE html><html><body>{table}{SORT_SCRIPT}</body></html>"
    assert _sorted_classes(page, [1], tmp_path) == ["c", "b", "d", "a"]
    assert _sorted_classes(page, [1, 1], tmp_path) == ["d", "b", "c", "a"]
    assert _sorted_classes(page, [0], tmp_path) == ["a", "b", "c", "d"]


def test_an_experiment_shows_each_trials_references_once_and_averages_them(tmp_path):
    from test_report import make_run as write_run

    from dalda.report.stage import build_report

    references = {0: 0.25, 1: 0.75}
    for trial, value in references.items():
        for method, accuracy in (("llm-ags", 0.5), ("base-rs", 0.4)):
            run = write_run(tmp_path / f"trial{trial}" / method, dataset="pets", method=method, trial=trial,
                            accuracy={"clip": accuracy})  # fmt: skip
            own = ClassifierResult.read(run.result_file("clip"))
            zero = {"zero_shot_clip_accuracy": 0.1 * (trial + 1), "zero_shot_clip_per_class_accuracy": {}}
            ClassifierResult(**{**own.to_json(), **zero}).write(run.result_file("clip"))
            ClassifierResult(method="none", classifier="clip", accuracy=value, reference="real_only",
                             per_class_accuracy={}).write(run.reference_result_file("clip"))  # fmt: skip
    build_report(tmp_path)
    runs = _rows(tmp_path / "report" / "tables" / "runs.csv")
    real = [row for row in runs if row["Method"] == "real-only reference"]
    assert sorted((row["Trial"], float(row["Acc-CLIP"])) for row in real) == [("0", 0.25), ("1", 0.75)]
    tab2 = {row["Method"]: row for row in _rows(tmp_path / "report" / "tables" / "tab2_accuracy_1shot.csv")}
    assert float(tab2["Real images only (reference)"]["Oxford Pets Acc-CLIP"]) == 0.5
    assert tab2["Real images only (reference)"]["Oxford Pets Acc-CLIP n"] == "2"
    assert float(tab2["Zero-shot CLIP (reference)"]["Oxford Pets Acc-CLIP"]) == pytest.approx(0.15)
    markdown = (tmp_path / "report" / "tables" / "tab2_accuracy_1shot.md").read_text()
    assert "| _Real images only (reference)_ | 0.5000 ± " in markdown


def test_zero_shot_reference_uses_the_runs_accuracy_metric():
    per_class = {"a": 1.0, "b": 0.0, "c": 0.5, "d": None}
    macro = ClassifierResult(accuracy_metric="macro", zero_shot_clip_accuracy=0.9,
                             zero_shot_clip_per_class_accuracy=per_class)  # fmt: skip
    assert zero_shot_accuracy(macro) == 0.5
    micro = ClassifierResult(accuracy_metric="micro", zero_shot_clip_accuracy=0.9,
                             zero_shot_clip_per_class_accuracy=per_class)  # fmt: skip
    assert zero_shot_accuracy(micro) == 0.9
