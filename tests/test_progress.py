"""Progress in logs: with stderr not a terminal every long loop writes plain lines (count, rate, ETA) at a
steady interval and a last one, and the rate is always a number."""

from __future__ import annotations

import io
import re

from dalda.progress import progress_bar, progress_line, rate_text

LINE = re.compile(r"^generating: (\d+)/10 \(\d+%\), [\d.]+ (img/s|s/img), elapsed \d+:\d\d, ETA (\d+:\d\d|\?)$")


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
    assert stream.getvalue().startswith("training: 5/5 (100%), ") and stream.getvalue().count("\n") == 1
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
