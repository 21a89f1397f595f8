"""The README's first command: `dalda run --config configs/demo.yaml` leaves every stage's output, offline, and
its report shows every element of the report page in a real browser."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from browser_support import loaded_images

from dalda.io import read_jsonl

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> Path:
    """The demo run, made once for this module by the README's first command."""
    out = tmp_path_factory.mktemp("demo") / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "dalda.cli", "run", "--config", str(ROOT / "configs" / "demo.yaml"), "-o", str(out)],
        capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return out


@pytest.mark.slow
def test_offline_default_runs_every_stage(demo_run):
    out = demo_run
    split = json.loads((out / "split.json").read_text())
    scores = read_jsonl(out / "scores.jsonl")
    plan = read_jsonl(out / "plan.jsonl")
    manifest = read_jsonl(out / "synthetic" / "manifest.jsonl")
    assert len(scores) == len(split["train"]) == 5 * 4
    assert (out / "clipscore_hist.png").stat().st_size > 0
    prompts = json.loads((out / "prompts.json").read_text())
    assert sorted(prompts) == sorted(split["classes"]) and all(len(p) == 4 for p in prompts.values())
    assert len(plan) == 4 * len(split["train"])
    assert sorted(line["row_id"] for line in manifest) == [row["row_id"] for row in plan]
    assert all((out / "synthetic" / line["file_name"]).is_file() for line in manifest)
    for classifier in ("resnet50", "clip"):
        record = json.loads((out / "results" / f"{classifier}.json").read_text())
        assert record["method"] == "template-ags" and 0.0 <= record["accuracy"] <= 1.0  # no LLM wrote them
    assert "clip_i" in (out / "diversity.json").read_text()
    assert (out / "report" / "index.html").stat().st_size > 0


@pytest.mark.slow
def test_the_demo_s_synthetic_folder_loads_with_dalda_s_class_names(demo_run):
    """`synthetic/` loaded as the README's tour says, and by its path alone: `label` a ClassLabel in the split's
    class order, with each image's prompt, λ and seed."""
    import datasets

    classes = json.loads((demo_run / "split.json").read_text())["classes"]
    synthetic = str(demo_run / "synthetic")
    for loaded in (datasets.load_dataset("imagefolder", data_dir=synthetic, split="train"),
                   datasets.load_dataset(synthetic, split="train")):  # fmt: skip
        assert loaded.features["label"] == datasets.ClassLabel(names=classes)
        assert len(loaded) == len(read_jsonl(demo_run / "synthetic" / "manifest.jsonl"))
        assert all(classes[label] == name for label, name in zip(loaded["label"], loaded["class_name"]))
        assert {"prompt", "ip_scale", "seed"} <= set(loaded.column_names)


@pytest.mark.slow
def test_the_demo_report_shows_every_element_in_a_browser(demo_run, browser_page):
    """Item 1 of the report: how it was made (with the random-model banner and stage times), reference rows,
    per-class accuracy with gains, confusions, training curves, λ vs score, prompts, a gallery of every class;
    every image loads and the page logs no error."""
    page, errors = browser_page
    page.goto((demo_run / "report" / "index.html").resolve().as_uri())
    page.wait_for_load_state("load")
    assert "RANDOM MODELS" in page.locator(".banner").inner_text()
    assert page.locator("table.provenance").count() == 1
    assert "generate" in page.locator("table.timings").inner_text()
    runs_table = page.locator("table", has_text="Real images only").first.inner_text()
    assert "Zero-shot CLIP" in runs_table
    assert page.locator("table.sortable", has_text="Gain over real only").count() == 2  # one per classifier
    assert page.locator("table.sortable", has_text="Predicted class").count() == 2  # top confusions
    for figure in ("per_class_gain_", "confusion_", "curves_", "lambda_vs_score", "lambda_distribution"):
        assert page.locator(f"img[data-file^='figures/{figure}']").count() >= 1, figure
    classes = json.loads((demo_run / "split.json").read_text())["classes"]
    assert page.locator("h2", has_text="Prompts per class").count() == 1
    assert page.locator(".gallery-class").count() == len(classes)
    seen = loaded_images(page)
    widths = page.evaluate("[...document.images].map((img) => img.naturalWidth)")
    assert seen and all(width > 0 for width in widths), "an image did not load"
    assert errors == []
