"""Outputs for other tools: manifest lines portable and Parquet-safe (old manifests still load and resume), and
`dalda export` giving the same class for every image under dalda, torchvision, `datasets` and Parquet."""

from __future__ import annotations

import json
from pathlib import Path

import datasets
from PIL import Image
from torchvision.datasets import ImageFolder
from typer.testing import CliRunner

from dalda.artefacts import ClassNames, ImageRecord, ManifestLine, PlanRow, Split
from dalda.cli import app
from dalda.config import config_to_yaml
from dalda.configure import load_config
from dalda.generation.manifest import consolidate, manifest_entry, write_image_atomic
from dalda.generators import GENERATORS
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
    Split("demo", CLASSES, 2, 0, "test", train, []).write(run)
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

    synthetic = datasets.load_dataset("imagefolder", data_dir=str(run.synthetic), split="train")
    synthetic.to_parquet(str(tmp_path / "synthetic.parquet"))  # raised on the empty `revisions` struct
    assert sorted(synthetic["label"]) == sorted(row.label for row in rows)

    # A manifest an earlier version wrote (absolute source paths, empty struct) loads, resumes without
    # regenerating anything, and is rewritten in today's form.
    old = [{**line.to_json(), "source_path": row.source_path, "revisions": {}} for line, row in zip(lines, rows)]
    run.manifest.write_text("".join(json.dumps(line) + "\n" for line in old))
    assert ManifestLine.read_all(run)[0].source_file(run.root) == Path(rows[0].source_path)
    done = consolidate(run, {row.row_id: manifest_entry(row, settings, run.root) for row in rows})
    assert sorted(done) == [row.row_id for row in rows]
    assert [line.to_json() for line in ManifestLine.read_all(run)] == [line.to_json() for line in lines]


def test_export_gives_every_image_the_same_class_everywhere(tmp_path, monkeypatch):
    run, rows = _made_run(tmp_path)
    out = tmp_path / "export"
    pushed: list[str] = []
    uploaded: list[dict] = []
    monkeypatch.setattr(datasets.Dataset, "push_to_hub", lambda self, repo, **kw: pushed.append(repo))
    import huggingface_hub

    monkeypatch.setattr(huggingface_hub.HfApi, "upload_file", lambda self, **kw: uploaded.append(kw))
    result = CliRunner().invoke(app, ["export", str(run.root), "-o", str(out), "--push-to-hub", "me/demo-dalda"])
    assert result.exit_code == 0, result.output
    assert pushed == ["me/demo-dalda"] and uploaded[0]["repo_id"] == "me/demo-dalda"

    # dalda's own labels for every exported file: real images by split position, synthetic ones by row id.
    split = Split.read(run)
    truth = {f"real_{i:06d}_{Path(r.path).name}": r.label for i, r in enumerate(split.train)}
    truth |= {f"synthetic_{row.row_id:06d}.png": row.label for row in rows}

    folder = ImageFolder(str(out / "imagefolder"))
    assert folder.class_to_idx == {f"{i:03d}_{name.replace(' ', '_')}": i for i, name in enumerate(CLASSES)}
    by_torchvision = {Path(path).name: label for path, label in folder.samples}
    assert by_torchvision == truth

    hf = datasets.load_from_disk(str(out / "hf"))
    assert hf.features["label"].names == CLASSES
    assert {Path(name).name: label for name, label in zip(hf["file_name"], hf["label"])} == truth
    assert sum(hf["synthetic"]) == len(rows)
    hf.to_parquet(str(tmp_path / "export.parquet"))
    from_parquet = datasets.Dataset.from_parquet(str(tmp_path / "export.parquet"))
    assert {Path(n).name: label for n, label in zip(from_parquet["file_name"], from_parquet["label"])} == truth

    as_imagefolder = datasets.load_dataset("imagefolder", data_dir=str(out / "imagefolder"), split="train")
    names = as_imagefolder.features["label"].names
    assert [name.split("_", 1)[1].replace("_", " ") for name in names] == CLASSES
    pairs = zip(as_imagefolder["image"], as_imagefolder["label"])
    labels = {Path(image.filename).name: label for image, label in pairs}
    assert labels == truth

    card = (out / "README.md").read_text()
    assert "template-ags" in card and "licence of the source images" in card and "3 classes" in card

    again = CliRunner().invoke(app, ["export", str(run.root), "-o", str(out)])
    assert again.exit_code == 1 and "not empty" in again.output
