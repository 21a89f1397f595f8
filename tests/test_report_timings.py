"""The report header's wall time per stage: seconds summed over every attempt from ``history.jsonl``, items
counted from what the stage left on disk, rate = items / seconds."""

from __future__ import annotations

from report_images_support import make_image_run

from dalda.artefacts import HistoryLine
from dalda.configure import build_config
from dalda.io import read_jsonl
from dalda.ownership import record
from dalda.report.collect import load_runs
from dalda.report.stage import run_report_stage
from dalda.report.page import stage_times, timings_html


def test_stage_times_sum_every_attempt_and_count_items_on_disk(tmp_path):
    run = make_image_run(tmp_path / "run", classes=3, reals_per_class=2, images_per_real=2)
    for stage, seconds in (("data", 0.5), ("score", 2.0), ("generate", 3.0), ("generate", 1.0), ("train", 4.0)):
        record(run.root, HistoryLine(event="stage", stage=stage, seconds=seconds))
    record(run.root, HistoryLine(event="command", status="ok"))  # not a stage: ignored
    totals = stage_times(load_runs([run.root]))
    images = len(read_jsonl(run.manifest))
    assert images == 3 * 2 * 2
    assert list(totals) == ["data", "score", "generate", "train"]
    assert totals["generate"] == (4.0, images)  # both attempts, every image on disk
    assert totals["score"] == (2.0, len(read_jsonl(run.scores)))
    assert totals["data"] == (0.5, None) and totals["train"] == (4.0, None)
    table = timings_html(load_runs([run.root]))
    assert f"{images} synthetic images" in table and f"{images / 4.0:.2f} synthetic images/s" in table

    page = run_report_stage(build_config({"out_dir": str(run.root)}), run).read_text()
    assert "Wall time per stage" in page and "train.protocol authors" in page  # the default protocol, named


def test_a_run_without_history_has_no_timing_table(tmp_path):
    run = make_image_run(tmp_path / "run", classes=2)
    assert timings_html(load_runs([run.root])) == ""
