"""`synthetic/` loads with `datasets` as an imagefolder whose `label` is a ClassLabel in dalda's class order, and
runs made when the manifest was `synthetic/metadata.jsonl` keep every finished image."""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

import datasets
import pytest
from test_generation_stage import CLASSES, make_run

from dalda.artefacts import ImageRecord, ManifestLine, PlanRow, Split
from dalda.configure import load_config
from dalda.generation import run_generate_stage
from dalda.generators import GENERATORS
from dalda.generation.imagefolder import write_imagefolder_metadata
from dalda.generation.manifest import consolidate, manifest_entry, sort_stored
from dalda.io import read_jsonl
from dalda.redact import remember_secret
from dalda.rundir import RunDir

SPLIT_CLASSES = ["red square", "green triangle", "blue/circle"]
"""Not alphabetical, and one class without synthetic images: the ClassLabel must still be the split's list."""


def _write_split(run: RunDir) -> None:
    """A split whose classes put a third class between the plan's two (labels follow it)."""
    relabel = {0: 0, 1: 2}
    rows = PlanRow.read_all(run)
    PlanRow.write_all(run, [dataclasses.replace(row, label=relabel[row.label]) for row in rows])
    sources = sorted({(row.source_path, relabel[row.label]) for row in rows})
    Split(
        dataset="imagefolder", classes=SPLIT_CLASSES, shots=2, trial=0, eval_split="test",
        train=[ImageRecord(Path(path), label) for path, label in sources], eval=[],
    ).write(run)  # fmt: skip


def _both_ways(synthetic: Path) -> list[datasets.Dataset]:
    """The folder loaded as users load it: named as an imagefolder, and by its path alone."""
    return [
        datasets.load_dataset("imagefolder", data_dir=str(synthetic), split="train"),
        datasets.load_dataset(str(synthetic), split="train"),
    ]


def _expected(run: RunDir) -> dict[int, ManifestLine]:
    """Every plan row's manifest line, as ``dalda generate`` expects to find it."""
    config = load_config(run.config)
    settings = GENERATORS.get(config.generator.name).manifest_settings(config)
    return {row.row_id: manifest_entry(row, settings, run.root) for row in PlanRow.read_all(run)}


def test_label_is_a_class_label_in_the_split_s_order_with_every_manifest_column(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run")
    _write_split(run)
    run_generate_stage(load_config(run.config), run)
    manifest = read_jsonl(run.manifest)
    for loaded in _both_ways(run.synthetic):
        assert loaded.features["label"] == datasets.ClassLabel(names=SPLIT_CLASSES)
        assert len(loaded) == len(manifest) == 12
        label = loaded.features["label"]
        assert all(label.int2str(value) == name for value, name in zip(loaded["label"], loaded["class_name"]))
        assert set(manifest[0]) - {"file_name"} <= set(loaded.column_names)  # prompt, λ, seed, settings, ...
        by_row = {row["row_id"]: row for row in loaded.remove_columns("image")}
        assert all(by_row[line["row_id"]]["ip_scale"] == line["ip_scale"] for line in manifest)


def test_without_a_split_the_manifest_s_class_names_give_the_class_label(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run")  # a plan made by hand: no split.json
    run_generate_stage(load_config(run.config), run)
    loaded = datasets.load_dataset("imagefolder", data_dir=str(run.synthetic), split="train")
    assert loaded.features["label"] == datasets.ClassLabel(names=CLASSES)  # label order, not alphabetical


def test_a_run_that_kept_its_manifest_in_metadata_jsonl_reads_it_and_generate_renames_it(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run")
    config = load_config(run.config)
    run_generate_stage(config, run)
    current = run.manifest
    lines = current.read_bytes()
    os.replace(current, run.legacy_manifest)  # the layout of runs made before
    run.imagefolder_metadata.unlink()

    assert run.manifest == run.legacy_manifest
    assert len(ManifestLine.read_all(run)) == 12
    assert len(sort_stored(run, _expected(run)).done) == 12  # what `dalda run --dry-run` counts as done
    again = run_generate_stage(config, run)
    assert (again.done_before, again.generated) == (12, 0)
    assert not run.legacy_manifest.exists() and current.read_bytes() == lines
    assert _both_ways(run.synthetic)[0].features["label"] == datasets.ClassLabel(names=CLASSES)


def test_lines_an_older_dalda_wrote_under_the_old_name_after_the_rename_still_count(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run")
    config = load_config(run.config)
    run_generate_stage(config, run)
    lines = run.manifest.read_text().splitlines(keepends=True)
    run.manifest.write_text("".join(lines[:5]))
    run.legacy_manifest.write_text("".join(lines[5:]))
    again = run_generate_stage(config, run)
    assert (again.done_before, again.generated) == (12, 0)
    assert not run.legacy_manifest.exists()
    assert len(datasets.load_dataset("imagefolder", data_dir=str(run.synthetic), split="train")) == 12


def test_the_parquet_never_names_an_image_the_manifest_dropped(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run")
    run_generate_stage(load_config(run.config), run)
    first = ManifestLine.read_all(run)[0]
    (run.synthetic / first.file_name).unlink()  # as a resumed run finds it before remaking the row
    consolidate(run, _expected(run))
    loaded = datasets.load_dataset("imagefolder", data_dir=str(run.synthetic), split="train")
    assert len(loaded) == 11 and first.row_id not in loaded["row_id"]

    consolidate(run, {}, regenerate=True)  # nothing planned any more: no metadata naming vanished rows
    assert not run.imagefolder_metadata.exists() and not ManifestLine.read_all(run)


def test_a_remembered_secret_never_reaches_the_parquet(tmp_path: Path) -> None:
    secret = "sk-imagefolder-test-0123456789abcdef"
    remember_secret(secret)
    run = RunDir(tmp_path / "run")
    line = ManifestLine(file_name="cat/000000.png", label=0, class_name="cat", prompt=f"a photo {secret}")
    write_imagefolder_metadata(run, [line])
    assert run.imagefolder_metadata.is_file() and secret.encode() not in run.imagefolder_metadata.read_bytes()


@pytest.fixture
def copied_fixture_run(tmp_path: Path) -> RunDir:
    """The run made by 6cff4a0 (tests/fixtures): its manifest is synthetic/metadata.jsonl."""
    copy = tmp_path / "fixture_run"
    shutil.copytree(Path(__file__).parent / "fixtures" / "run_made_by_6cff4a0", copy)
    return RunDir(copy)


def test_the_old_fixture_run_reads_its_manifest_under_the_old_name(copied_fixture_run: RunDir) -> None:
    run = copied_fixture_run
    assert run.manifest == run.legacy_manifest and ManifestLine.read_all(run)


def test_lines_that_make_no_table_leave_no_stale_view_and_say_why(tmp_path: Path, caplog) -> None:
    run = RunDir(tmp_path / "run")
    good = [ManifestLine(file_name=f"cat/00000{i}.png", label=0, class_name="cat", extra={"steps": 2}) for i in (0, 1)]
    write_imagefolder_metadata(run, good)
    assert run.imagefolder_metadata.is_file()
    mixed = [good[0], dataclasses.replace(good[1], extra={"steps": "two"})]  # a column no table type holds
    write_imagefolder_metadata(run, mixed)
    assert not run.imagefolder_metadata.exists()
    assert "metadata.parquet not written" in caplog.text


def test_the_view_adds_no_progress_bar_to_plain_logs(tmp_path: Path, capfd) -> None:
    run = RunDir(tmp_path / "run")
    lines = [ManifestLine(file_name=f"cat/{i:06d}.png", label=0, class_name="cat", row_id=i) for i in range(3)]
    write_imagefolder_metadata(run, lines)
    written = capfd.readouterr()
    assert run.imagefolder_metadata.is_file() and "Casting" not in written.err and "parquet" not in written.err
    assert not datasets.utils.are_progress_bars_disabled()  # the user's own setting is left as it was
