"""``report/manifest.json`` as one typed record (``dalda.artefacts.ReportManifest``): it reads what every version
of dalda wrote, so a report made by an earlier version is rebuilt in place, dalda's old files replaced or
removed and a user's file kept (``dalda.report.install``)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dalda.artefacts import ReportManifest
from dalda.report.stage import build_report
from dalda.rundir import RunDir

FIXTURES = Path(__file__).parent / "fixtures"
OLD_RUN = FIXTURES / "run_made_by_6cff4a0"
OLD_REPORT = FIXTURES / "report_made_by_6cff4a0"
USER_FILES = {"my notes.txt": b"mine", "figures/my sketch.png": b"mine too"}


def _run_with_old_report(root: Path, with_files_list: bool) -> RunDir:
    """A copy of the 6cff4a0 run holding (part of) the report that version made; without the ``files`` list, as
    the versions before that list wrote it (they made no gallery thumbnails either)."""
    shutil.copytree(OLD_RUN, root)
    shutil.copytree(OLD_REPORT, root / "report", ignore=shutil.ignore_patterns("FIXTURE.md"))
    if not with_files_list:
        manifest = json.loads((root / "report" / "manifest.json").read_text())
        del manifest["files"]
        (root / "report" / "manifest.json").write_text(json.dumps(manifest, indent=2))
        shutil.rmtree(root / "report" / "thumbs")
    for name, data in USER_FILES.items():
        (root / "report" / name).write_bytes(data)
    return RunDir(root)


def _files(folder: Path) -> set[str]:
    return {path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()}


@pytest.mark.parametrize("with_files_list", [True, False], ids=["files-list", "no-files-list"])
def test_a_report_made_by_6cff4a0_is_rebuilt_in_place_keeping_a_users_files(tmp_path, with_files_list):
    run = _run_with_old_report(tmp_path / "run", with_files_list)
    old_runs_table = (run.report / "tables" / "runs.csv").read_text()
    claimed = ReportManifest.read(run.report).written_files()
    assert {"figures/fig4_clipscore_hist.png", "tables/per_class_fixture_run_clip.csv"} <= claimed
    assert not claimed & set(USER_FILES)

    build_report(run.root)

    assert all((run.report / name).read_bytes() == data for name, data in USER_FILES.items())
    new = ReportManifest.read(run.report)
    assert _files(run.report) == new.written_files() | set(USER_FILES)  # dalda's old files: replaced or removed
    assert "tables/per_class_fixture_run_clip.csv" not in _files(run.report)  # the run's old folder name
    assert "figures/fig4_clipscore_hist.png" in new.written_files()
    runs_table = (run.report / "tables" / "runs.csv").read_text()
    assert runs_table != old_runs_table and runs_table.splitlines()[1].startswith("run,demo,")
    assert not [path for path in run.root.iterdir() if path.name.startswith(".report.")]


def test_the_manifest_reads_every_version_s_form_and_writes_it_back_unchanged(tmp_path):
    text = (OLD_REPORT / "manifest.json").read_text()
    manifest = ReportManifest.read(OLD_REPORT)
    assert manifest.figures[0].file == "figures/fig4_clipscore_hist.png" and manifest.groups["demo"]["group"] == "LC"
    manifest.write(tmp_path)
    assert (tmp_path / "manifest.json").read_text() == text

    payload = json.loads(text)
    del payload["files"]
    payload["made_by"] = "a later dalda"
    older = ReportManifest.from_json(payload)
    assert older.files is None and older.extra == {"made_by": "a later dalda"}
    assert list(older.to_json().items()) == list(payload.items())
    tables = {path for links in payload["tables"] for path in links.values()}
    figures = {entry["file"] for entry in payload["figures"]}
    assert older.written_files() == tables | figures | {"index.html", "manifest.json"}
    assert "tables/runs.md" in tables and "figures/lambda_vs_score.png" in figures


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m.pop("figures"), "'figures' is not a list"),
        (lambda m: m.pop("title"), r"lacks the fields \['title'\]"),
        (lambda m: m["figures"][0].pop("file"), r"a figure lacks the fields \['file'\]"),
        (lambda m: m["tables"].append(["tables/x.csv"]), "'tables' is not a list of"),
        (lambda m: m.update(files="index.html"), "'files' is not a list of paths"),
    ],
)
def test_a_manifest_dalda_did_not_write_is_refused_naming_the_file_and_field(tmp_path, change, message):
    payload = json.loads((OLD_REPORT / "manifest.json").read_text())
    change(payload)
    (tmp_path / "manifest.json").write_text(json.dumps(payload))
    with pytest.raises(ValueError, match=message) as error:
        ReportManifest.read(tmp_path)
    assert str(tmp_path / "manifest.json") in str(error.value)
