"""A run's method label is a pure function of its config: the same in every process, whatever it imported first.

Labels used to depend on a set that ``dalda.generators`` filled at import, so a process that imported
``dalda.methods`` alone called an SDXL + IP-Adapter run ``sdxl-ip-adapter`` and one that imported the report
called it ``template-ags``. Each case here is a fresh interpreter (imports are per process) that imports modules
in its own order, then labels one SDXL config and reports a tiny run directory of it through ``build_report``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dalda.artefacts import ClassifierResult
from dalda.config import config_to_yaml
from dalda.configure import build_config
from dalda.rundir import RunDir

FIRST_IMPORTS = ["dalda.report.stage", "dalda.methods", "dalda.generators", "dalda.experiments.spec"]

_SCRIPT = textwrap.dedent(
    """
    import csv, importlib, json, sys
    from pathlib import Path

    importlib.import_module(sys.argv[2])  # before anything else of dalda
    from dalda.configure import load_config
    from dalda.methods import method_of
    from dalda.report.stage import build_report

    root = Path(sys.argv[1])
    label = method_of(load_config(root / "config.yaml"), "template")
    build_report(root)
    with open(root / "report" / "tables" / "runs.csv", newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    with open(root / "report" / "tables" / "tab2_accuracy_1shot.csv", newline="") as handle:
        titles = [line["Method"] for line in csv.DictReader(handle) if not line["Method"].endswith("(reference)")]
    print(json.dumps({"label": [label.name, label.title], "runs": row["Method"], "tab2": titles}))
    """
)


def _tiny_sdxl_run(root: Path) -> RunDir:
    """A finished SDXL + IP-Adapter run as the report reads it: its config (template prompts, the offline
    default) and one results file."""
    config = build_config({"out_dir": str(root), "data": {"dataset": "demo"}, "generator": {"name": "sdxl-ip-adapter"}})
    run = RunDir(root).ensure()
    run.config.write_text(config_to_yaml(config))
    ClassifierResult(method="template-ags", dataset="demo", shots=1, trial=0, classifier="clip", accuracy=0.5,
                     per_class_accuracy={}, num_eval=4).write(run.result_file("clip"))  # fmt: skip
    return run


@pytest.mark.slow
def test_method_labels_are_equal_across_import_orders_in_fresh_processes(tmp_path):
    template = _tiny_sdxl_run(tmp_path / "template")
    processes = {}
    for first in FIRST_IMPORTS:
        root = tmp_path / first
        shutil.copytree(template.root, root)
        command = [sys.executable, "-c", _SCRIPT, str(root), first]
        processes[first] = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = {}
    for first, process in processes.items():
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, f"importing {first} first: {err[-2000:]}"
        seen[first] = json.loads(out.strip().splitlines()[-1])
    title = "Template Prompt + AGS"  # the template backend (the offline default) wrote the prompts
    expected = {"label": ["template-ags", title], "runs": "template-ags", "tab2": [title]}
    assert seen == {first: expected for first in FIRST_IMPORTS}
