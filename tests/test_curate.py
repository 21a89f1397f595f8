"""``dalda curate``: a person accepts and rejects synthetic images in a real headless Chromium (clicks and keys),
the decisions survive a reload, training uses exactly the kept set, and nothing outside the run changes."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from browser_support import browser_page  # noqa: F401  (the fixture)
from report_images_support import make_image_run

from dalda.artefacts import CurationRecord, FilterRecord, ImageRecord, ManifestLine, Split
from dalda.curate import curation_server, record_decision
from dalda.training.trainset import load_training_set


def _write_split(run) -> None:
    """The split the manifest's real images form (the helper run has none of its own)."""
    lines = ManifestLine.read_all(run)
    sources = {str(line.source_file(run.root)): int(line.label) for line in lines}
    classes = sorted({(int(line.label), str(line.class_name)) for line in lines})
    train = [ImageRecord(Path(path), label) for path, label in sorted(sources.items())]
    Split("demo", [name for _, name in classes], 1, 0, "authors", train, []).write(run)


def _files(root: Path) -> dict[str, int]:
    """Every file under ``root`` with its modification time, the test browser's own profile left out."""
    files = [path for path in root.rglob("*") if path.is_file() and "profile" not in path.parts]
    return {str(path): path.stat().st_mtime_ns for path in files}


def test_a_person_curates_in_the_browser_and_training_follows(tmp_path, browser_page):  # noqa: F811
    page, errors = browser_page
    run = make_image_run(tmp_path / "run", classes=2, reals_per_class=1, images_per_real=3)
    _write_split(run)
    lines = ManifestLine.read_all(run)
    before_outside = {name: stamp for name, stamp in _files(tmp_path).items() if not name.startswith(str(run.root))}
    server = curation_server(run)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/")
        cards = page.locator(".card")
        assert cards.count() == len(lines) == 6
        cards.nth(0).locator("button[data-decision='reject']").click()  # a click
        cards.nth(1).focus()
        page.keyboard.press("r")  # a key: reject the focused image
        page.keyboard.press("j")  # move on
        page.keyboard.press("a")  # accept the third
        page.wait_for_function("document.querySelectorAll('.card.rejected').length === 2")
        page.wait_for_function("document.querySelectorAll('.card.accepted').length === 1")
        cards.nth(1).locator("button[data-decision='undo']").click()  # undo the key press
        page.wait_for_function("document.querySelectorAll('.card.rejected').length === 1")
        page.locator("section.class").nth(1).locator("button.all[data-decision='reject']").click()  # a whole class
        page.wait_for_function("document.querySelectorAll('.card.rejected').length === 4")
        page.reload()
        assert page.locator(".card.rejected").count() == 4 and page.locator(".card.accepted").count() == 1
        assert errors == []
    finally:
        server.shutdown()
        server.server_close()
    rejected = {name for name, record in CurationRecord.by_image(run).items() if record.decision == "reject"}
    assert len(rejected) == 4 and lines[0].file_name in rejected and lines[1].file_name not in rejected
    training = load_training_set(Split.read(run), run)
    used = {str(path.relative_to(run.synthetic)) for path in training.synthetic_paths}
    assert used == {line.file_name for line in lines} - rejected
    assert {name: stamp for name, stamp in _files(tmp_path).items() if not name.startswith(str(run.root))} == before_outside


def test_a_persons_accept_overrides_the_filters_reject_and_bad_decisions_are_refused(tmp_path):
    run = make_image_run(tmp_path / "run", classes=2, reals_per_class=1, images_per_real=2)
    _write_split(run)
    lines = ManifestLine.read_all(run)
    FilterRecord.write_all(run, [
        FilterRecord(line.file_name, line.row_id, int(line.label), __import__("dalda.hashing").hashing.file_sha256(
            run.synthetic / line.file_name), "softmax", "m", 0.01, None, None, None, False, ["score below 0.1"])
        for line in lines
    ])  # fmt: skip
    assert load_training_set(Split.read(run), run).synthetic_paths == []  # the filter rejected everything
    assert record_decision(run, lines[0].file_name, "accept") == "accepted"
    assert [p.name for p in load_training_set(Split.read(run), run).synthetic_paths] == [Path(lines[0].file_name).name]
    with pytest.raises(ValueError, match="not one of"):
        record_decision(run, lines[0].file_name, "maybe")
    with pytest.raises(ValueError, match="is not an image of"):
        record_decision(run, "../../etc/passwd", "reject")
