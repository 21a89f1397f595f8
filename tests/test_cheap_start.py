"""Starting the command line is cheap: asking for help, the version or the resolved config imports no torch,
diffusers or transformers (they load when a stage runs)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("torch", "diffusers", "transformers")

_PROBE = """
import json, sys
from dalda.cli import app
try:
    app({argv!r})
except SystemExit:
    pass
print(json.dumps(sorted(name for name in {heavy!r} if name in sys.modules)), file=sys.stderr)
"""


def _heavy_modules_after(argv: list[str] | None) -> tuple[list[str], str]:
    """The heavy packages in ``sys.modules`` after importing the CLI (and running it with ``argv``), in a fresh
    interpreter; and what the command printed."""
    code = "import json, sys\nimport dalda.cli\nprint(json.dumps(sorted(n for n in %r if n in sys.modules)), file=sys.stderr)" % (
        HEAVY,
    ) if argv is None else _PROBE.format(argv=argv, heavy=HEAVY)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    return json.loads(done.stderr.strip().splitlines()[-1]), done.stdout


@pytest.mark.parametrize(
    ("argv", "printed"),
    [(None, ""), (["--help"], "Usage"), (["--version"], "dalda "), (["show-config"], "guidance:")],
)
def test_the_cli_starts_without_the_heavy_libraries(argv, printed):
    heavy, output = _heavy_modules_after(argv)
    assert heavy == [], f"{argv or 'import dalda.cli'} imported {heavy}"
    assert printed in output
