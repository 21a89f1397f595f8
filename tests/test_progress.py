"""Progress in logs: with stderr not a terminal every long loop writes plain lines (count, rate, ETA) at a
steady interval and a last one, and the rate is always a number."""

from __future__ import annotations

import io
import logging
import re
import time

from typer.testing import CliRunner

from dalda.cli import LOG_FILE_VARIABLE, app
from dalda.progress import progress_bar, progress_line, rate_text

LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ generating: (\d+)/10 \(\d+%\), [\d.]+ (img/s|s/img), elapsed \d+:\d\d, ETA (\d+:\d\d|\?)$")


def test_a_non_tty_stream_gets_plain_lines_at_the_interval_and_a_last_line():
    stream = io.StringIO()
    with progress_bar("generating", total=10, unit="img", stream=stream, interval=0.0) as advance:
        for _ in range(10):
            advance(1)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 10  # one per step below the total (interval 0), then the last line
    assert all(LINE.match(line) for line in lines), lines
    assert [int(LINE.match(line).group(1)) for line in lines] == list(range(1, 11))
    assert "--" not in stream.getvalue()


def test_a_long_interval_writes_only_the_last_line_and_disabled_writes_nothing():
    stream = io.StringIO()
    with progress_bar("training", total=5, unit="step", stream=stream, interval=3600) as advance:
        advance(5)
    assert stream.getvalue().split(" ", 1)[1].startswith("training: 5/5 (100%), ")
    assert stream.getvalue().count("\n") == 1
    quiet = io.StringIO()
    with progress_bar("training", total=5, stream=quiet, enabled=False) as advance:
        advance(5)
    assert quiet.getvalue() == ""


def test_rate_and_eta_are_numbers():
    assert rate_text(0, 0.0, "img") == "0 img/s"
    assert rate_text(30, 10.0, "img") == "3.00 img/s"
    assert rate_text(2, 10.0, "img") == "5.0 s/img"
    assert progress_line("x", 25, 100, 50.0, "img") == "x: 25/100 (25%), 2.0 s/img, elapsed 0:50, ETA 2:30"
    assert progress_line("x", 50, 100, 4000.0, "img").endswith("elapsed 1:06:40, ETA 1:06:40")


def test_a_heartbeat_keeps_coming_while_one_item_runs():
    stream = io.StringIO()
    with progress_bar("generating", total=10, unit="img", stream=stream, interval=0.05) as advance:
        advance(1)
        time.sleep(0.5)  # one slow item: no advance, yet the log must show the job alive
    lines = stream.getvalue().splitlines()
    assert len(lines) >= 4, lines
    assert all(LINE.match(line) and LINE.match(line).group(1) == "1" for line in lines), lines


def test_a_resumed_loop_counts_from_where_it_was_and_rates_only_new_items():
    assert progress_line("x", 60, 100, 10.0, "img", resumed=50) == "x: 60/100 (60%), 1.00 img/s, elapsed 0:10, ETA 0:40"
    stream = io.StringIO()
    with progress_bar("prompts", total=5, unit="round", stream=stream, interval=3600, done=3) as advance:
        advance(2)
    assert " prompts: 5/5 (100%), " in stream.getvalue()


def test_with_logging_configured_lines_go_through_the_logger(caplog):
    logging.getLogger().addHandler(handler := logging.NullHandler())
    try:
        with caplog.at_level(logging.INFO, logger="dalda.progress"):
            with progress_bar("training", total=2, unit="step", interval=3600) as advance:
                advance(2)
    finally:
        logging.getLogger().removeHandler(handler)
    assert [record.getMessage().split(",")[0] for record in caplog.records] == ["training: 2/2 (100%)"]


def test_log_file_gets_timestamped_lines_of_the_command(tmp_path, monkeypatch):
    monkeypatch.setenv(LOG_FILE_VARIABLE, "")  # restored (unset) after the test, whatever --log-file sets
    log = tmp_path / "dalda.log"
    run = tmp_path / "run"
    args = ["--log-file", str(log), "data", "-o", str(run), "-s", "data.dataset=demo", "-s", "models.profile=tiny",
            "-s", f"data.root={tmp_path / 'demo'}"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = log.read_text().splitlines()
    assert lines and all(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (INFO|WARNING|DEBUG) ", line) for line in lines)
    assert any("stage data" in line for line in lines)
    missing = CliRunner().invoke(app, ["--log-file", str(tmp_path / "no" / "such" / "x.log"), "data"])
    assert missing.exit_code != 0 and "does not exist" in missing.output
