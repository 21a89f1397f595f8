"""Outputs for other tools: manifest lines portable and Parquet-safe (old manifests still load and resume), and
`dalda export` giving the same class for every image under dalda, torchvision, `datasets` and Parquet."""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import numpy as np
from PIL import Image
from typer.testing import CliRunner

from dalda.artefacts import ClassNames, FilterRecord, ImageRecord, ManifestLine, PlanRow, Split
from dalda.cli import app
from dalda.config import config_to_yaml
from dalda.configure import load_config
from dalda.generation.manifest import consolidate, manifest_entry, write_image_atomic
from dalda.export.names import MAX_NAME_BYTES, class_folders, safe_name
from dalda.export.pictures import MAX_SYNTHETIC_SIDE, export_synthetic
from dalda.generators import GENERATORS
from dalda.hashing import file_sha256
from dalda.images import load_rgb
from dalda.ownership import claim
from dalda.rundir import RunDir

# Not alphabetical: an alphabetical folder order would give other labels than dalda's.
CLASSES = ["zebra", "ant", "Bengal cat"]


def _made_run(tmp_path: Path) -> tuple[RunDir, list[PlanRow]]:
    """A run as `dalda data` + `plan` + `generate` leave it (real images outside the run, two per class)."""
    photos, run = tmp_path / "photos", claim(tmp_path / "runs" / "one")  # marked: export reads only dalda's runs
    config = load_config(None, [f"out_dir={run.root}", "data.dataset=demo", "models.profile=tiny"])
    run.config.write_text(config_to_yaml(config))
    train = []
    for label, name in enumerate(CLASSES):
        for k in range(2):
            path = photos / name / f"{k}.jpg"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (16, 16), (40 * label, 10 * k, 0)).save(path)
            train.append(ImageRecord(path.resolve(), label))
    evaluation = []
    for label, name in enumerate(CLASSES):
        path = photos / "eval" / name / "0.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (16, 16), (40 * label, 200, 0)).save(path)
        evaluation.append(ImageRecord(path.resolve(), label))
    Split("demo", CLASSES, 2, 0, "test", train, evaluation).write(run)
    rows = [
        PlanRow(i, CLASSES[r.label], r.label, str(r.path), i, 0, f"a {CLASSES[r.label]}", 0.5, 0.9, "high", i)
        for i, r in enumerate(train)
    ]
    PlanRow.write_all(run, rows)
    settings = GENERATORS.get("ip-adapter").manifest_settings(config)
    expected = {row.row_id: manifest_entry(row, settings, run.root) for row in rows}
    for row in rows:
        image = Image.new("RGB", (16, 16), (0, 0, 20 * row.row_id))
        write_image_atomic(image, run.synthetic / expected[row.row_id].file_name)
    ManifestLine.write_all(run, [expected[row.row_id] for row in rows])
    ClassNames(CLASSES).write(run.classes)
    ClassNames(CLASSES).write(run.synthetic / "classes.json")
    return run, rows


def test_manifest_lines_are_relative_parquet_safe_and_old_lines_still_count(tmp_path):
    run, rows = _made_run(tmp_path)
    config = load_config(run.config, [])
    settings = GENERATORS.get("ip-adapter").manifest_settings(config)
    assert settings["revisions"] == {}  # what broke to_parquet
    lines = ManifestLine.read_all(run)
    assert all(not Path(line.source_path).is_absolute() for line in lines)
    assert all("revisions" not in line.to_json() for line in lines)
    assert [line.source_file(run.root).resolve() for line in lines] == [Path(row.source_path) for row in rows]

    # A manifest an earlier version wrote (absolute source paths, empty struct) loads, resumes without
    # regenerating anything, and is rewritten in today's form.
    old = [{**line.to_json(), "source_path": row.source_path, "revisions": {}} for line, row in zip(lines, rows)]
    run.manifest.write_text("".join(json.dumps(line) + "\n" for line in old))
    assert ManifestLine.read_all(run)[0].source_file(run.root) == Path(rows[0].source_path)
    done = consolidate(run, {row.row_id: manifest_entry(row, settings, run.root) for row in rows})
    assert sorted(done) == [row.row_id for row in rows]
    assert [line.to_json() for line in ManifestLine.read_all(run)] == [line.to_json() for line in lines]

    synthetic = datasets.load_dataset("imagefolder", data_dir=str(run.synthetic), split="train")
    synthetic.to_parquet(str(tmp_path / "synthetic.parquet"))  # raised on the empty `revisions` struct
    assert synthetic["label"] == [row.label for row in rows] and synthetic.features["label"].names == CLASSES


def _hub_on_disk(monkeypatch, remote: Path) -> list[str]:
    """Make every Hub commit copy its files into ``remote`` (the upload intercepted at the file level: the
    files of the one commit a push makes); returns the repo ids committed to."""
    import huggingface_hub

    commits: list[str] = []

    def create_commit(self, repo_id, operations, **kwargs):
        for operation in operations:
            target = remote / operation.path_in_repo
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(Path(operation.path_or_fileobj).read_bytes())
        commits.append(repo_id)

    monkeypatch.setattr(huggingface_hub.HfApi, "create_repo", lambda self, repo_id, **kwargs: None)
    monkeypatch.setattr(huggingface_hub.HfApi, "create_commit", create_commit)
    return commits


def _awkward_real_images(run: RunDir) -> tuple[Path, Path]:
    """Replace two training images by files whose bytes are not what dalda trains on: a 16-bit greyscale PNG
    (raw, torchvision shows it near-white) and a JPEG lying on its side with an EXIF rotation."""
    split = Split.read(run)
    deep, turned = Path(split.train[0].path), Path(split.train[1].path)
    Image.fromarray(np.full((8, 12), 32896, dtype=np.uint16)).save(deep.with_suffix(".png"))  # 50% grey
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: rotate 90 degrees clockwise to view
    Image.new("RGB", (20, 10), (200, 0, 0)).save(turned, exif=exif.tobytes())
    train = [ImageRecord(deep.with_suffix(".png"), 0), *split.train[1:]]
    Split(split.dataset, split.classes, split.shots, split.trial, split.eval_split, train, split.eval).write(run)
    return deep.with_suffix(".png"), turned


def _reject(run: RunDir, row: PlanRow) -> None:
    """Record a filter decision rejecting ``row``'s image and keeping every other one."""
    records = []
    for line in ManifestLine.read_all(run):
        path = line.image_path(run.synthetic)
        records.append(
            FilterRecord(line.file_name, line.row_id, line.label, file_sha256(path), "clip", "m", 0.5, None, None,
                         None, kept=line.row_id != row.row_id, reasons=[] if line.row_id != row.row_id else ["low_score"])
        )
    FilterRecord.write_all(run, records)


def test_export_loads_from_the_uploaded_files_as_dalda_trained(tmp_path, monkeypatch):
    run, rows = _made_run(tmp_path)
    deep, turned = _awkward_real_images(run)
    _reject(run, rows[-1])
    out, remote = tmp_path / "export", tmp_path / "remote"
    commits = _hub_on_disk(monkeypatch, remote)
    result = CliRunner().invoke(app, ["export", str(run.root), "-o", str(out), "--push-to-hub", "me/demo-dalda"])
    assert result.exit_code == 0, result.output
    assert commits == ["me/demo-dalda"]
    assert sorted(p.relative_to(remote).as_posix() for p in remote.rglob("*") if p.is_file()) == [
        "README.md", "data/test-00000-of-00001.parquet", "data/train-00000-of-00001.parquet"
    ]

    hub = datasets.load_dataset(str(remote))
    assert set(hub) == {"train", "test"}
    train, test = hub["train"], hub["test"]
    assert train.features["label"].names == CLASSES  # dalda's order, names without prefixes
    assert "kept" not in train.column_names and "source_path" not in train.column_names  # no local paths
    manifest = ManifestLine.read_all(run)[0].to_json()
    assert set(manifest) - {"file_name", "source_path"} <= set(train.column_names)  # every other manifest column
    assert {"prompt", "seed", "ip_scale", "clipscore", "m", "row_id", "steps", "guidance_scale"} <= set(manifest)
    real = [row for row in train.remove_columns("image") if not row["synthetic"]]
    assert real and all(row["prompt"] is None and row["source_index"] is not None for row in real)
    by_row = {row["row_id"]: row for row in train.remove_columns("image") if row["synthetic"]}
    assert all(by_row[line.row_id]["ip_scale"] == line.ip_scale for line in ManifestLine.read_all(run)
               if line.row_id in by_row)  # fmt: skip
    split = Split.read(run)
    kept = [row for row in rows if row.row_id != rows[-1].row_id]
    assert sorted(train["label"]) == sorted([r.label for r in split.train] + [row.label for row in kept])
    assert sum(train["synthetic"]) == len(kept)
    assert sorted(test["label"]) == sorted(r.label for r in split.eval) and not any(test["synthetic"])

    # Pixels as dalda decodes them for training, not the files' bytes.
    by_name = {Path(name).name: image for name, image in zip(train["file_name"], train["image"])}
    exported_deep = by_name[f"real_000000_{deep.stem}.png"]
    assert exported_deep.mode == "RGB" and np.asarray(exported_deep).mean() == np.asarray(load_rgb(deep)).mean()
    assert abs(np.asarray(exported_deep).mean() - 128) < 1
    assert by_name[f"real_000001_{turned.stem}.png"].size == (10, 20)  # upright

    card = (remote / "README.md").read_text()
    for expected in ("license:", "image-classification", "2409.16949", "rejected 1", "only kept images"):
        assert expected in card
    assert (out / "imagefolder" / "train" / "Bengal_cat").is_dir()
    assert not list(tmp_path.glob("*.partial-*"))

    # The same export pushed again (a retry after a failed upload) needs no new export.
    again = CliRunner().invoke(app, ["export", str(run.root), "-o", str(out), "--push-to-hub", "me/demo-dalda"])
    assert again.exit_code == 0, again.output
    assert commits == ["me/demo-dalda"] * 2
    refused = CliRunner().invoke(app, ["export", str(run.root), "-o", str(out)])
    assert refused.exit_code == 1 and "not empty" in refused.output


def test_export_with_rejected_images_marks_them_and_keeps_the_user_s_folder(tmp_path):
    run, rows = _made_run(tmp_path)
    _reject(run, rows[0])
    out = tmp_path / "with-rejected"
    result = CliRunner().invoke(app, ["export", str(run.root), "-o", str(out), "--include-rejected"])
    assert result.exit_code == 0, result.output
    train = datasets.load_dataset(str(out), split="train")
    synthetic = [(seed, kept) for seed, kept, is_synthetic in zip(train["seed"], train["kept"], train["synthetic"])
                 if is_synthetic]
    assert sorted(kept for _, kept in synthetic) == [False] + [True] * (len(rows) - 1)

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    refused = CliRunner().invoke(app, ["export", str(run.root), "-o", str(mine)])
    assert refused.exit_code == 1 and (mine / "notes.txt").read_text() == "keep me"


def test_export_names_are_portable():
    assert class_folders(["Bengal cat", "bengal_cat", "CON", "é" * 200, "a/b:c"]) == [
        "Bengal_cat", "bengal_cat-1", "_CON", "class", "a_b_c"
    ]
    assert len(safe_name("x" * 300).encode()) <= MAX_NAME_BYTES


def test_synthetic_export_is_never_larger_than_the_limit(tmp_path):
    big, small = tmp_path / "big.png", tmp_path / "small.png"
    Image.new("RGB", (MAX_SYNTHETIC_SIDE * 2, MAX_SYNTHETIC_SIDE), "red").save(big)
    Image.new("RGB", (64, 32), "red").save(small)
    export_synthetic(big, tmp_path / "out" / "big.png")
    export_synthetic(small, tmp_path / "out" / "small.png")
    assert Image.open(tmp_path / "out" / "big.png").size == (MAX_SYNTHETIC_SIDE, MAX_SYNTHETIC_SIDE // 2)
    assert (tmp_path / "out" / "small.png").read_bytes() == small.read_bytes()
