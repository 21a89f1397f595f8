"""Issue 21, item 10: one error path. Every command's expected failure is one line with paths printed as they are;
folders dalda builds and renames into place follow the umask; a full disk names the file; degenerate evaluations
(one class, classes without evaluation images, chance level) are flagged under the report's accuracy tables."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from dalda import cli
from dalda.io import temporary_folder, write_text_atomic
from dalda.report.install import fresh_folder
from dalda.report.tables import warning_notes

runner = CliRunner()


def _lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


@pytest.mark.parametrize("args", [
    ["export", "{tmp}/no[/bold]run"],
    ["export", "{tmp}/plain", "--push-to-hub", "someone/x"],
    ["doctor", "-s", "train.epochs=nan"],
    ["doctor", "-c", "{tmp}/missing [red]config.yaml"],
    ["show-config", "-s", "generator.resolution=99999999"],
    ["report", "{tmp}/no[b]where"],
])
def test_expected_failures_are_one_line_with_paths_as_typed(tmp_path, args):
    (tmp_path / "plain").mkdir()
    argv = [arg.format(tmp=tmp_path) for arg in args]
    result = runner.invoke(cli.app, argv)
    lines = _lines(result)
    assert result.exit_code == 1 and len(lines) == 1, result.stderr
    assert lines[0].startswith("error:") and "Traceback" not in result.stderr
    for arg in argv:
        if "[" in arg and arg.startswith(str(tmp_path)):
            assert Path(arg).name in lines[0]  # markup characters printed, not eaten


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_folders_built_then_renamed_follow_the_umask(tmp_path, umask, monkeypatch):
    monkeypatch.setattr("dalda.io._UMASK", umask)
    for folder in (temporary_folder(tmp_path, ".x."), fresh_folder(tmp_path / "report")):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o777 & ~umask


def test_a_full_disk_names_the_file_being_written(tmp_path, monkeypatch):
    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    target = tmp_path / "run" / "split.json"
    with pytest.raises(OSError, match=r"No space left on device while writing: .*split\.json") as caught:
        write_text_atomic(target, "{}")
    assert caught.value.errno == errno.ENOSPC
    assert list((tmp_path / "run").iterdir()) == []  # no temporary left behind


def test_degenerate_evaluations_are_flagged_under_the_accuracy_tables():
    record = SimpleNamespace(dataset="mine", method="llm-ags", trial=0, root=Path("/runs/one"), warnings={
        "resnet50": ["the dataset has 1 class: every classifier is trivially 100% accurate; add at least one more "
                     "class folder"],
        "clip": ["1 class(es) have no evaluation image ('dog'): accuracy says nothing about them"],
    })
    notes = warning_notes([record])
    assert len(notes) == 2 and all(note.startswith("WARNING mine llm-ags trial 0") for note in notes)
    assert any("trivially 100% accurate" in note for note in notes)
    assert warning_notes([SimpleNamespace(dataset="d", method="m", trial=0, warnings={})]) == []
