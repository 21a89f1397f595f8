"""``python -m dalda``: the same command line as ``dalda`` (``dalda.cli``), for when the script is not on PATH."""

from dalda.cli import app

app(prog_name="dalda")
