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
