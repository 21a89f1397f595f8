"""``configs/experiments/beyond.yaml --models tiny``: the scorer x generator x filter grid runs offline and its
report shows every comparison (accuracy, diversity with DINO / FID / KID, scores and λ per scorer, kept /
rejected counts with example images), each number traceable to the runs' own files."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dalda.scorers import SCORERS

from dalda.artefacts import ARTEFACTS_BY_NAME, FilterRecord, ManifestLine
from dalda.experiments.shared_artefacts import SharedStore
from dalda.experiments.spec import build_cells, load_spec
from dalda.rundir import RunDir

SPEC = Path(__file__).resolve().parents[1] / "configs" / "experiments" / "beyond.yaml"
TINY_CELLS = [
    "ipa.clip-softmax", "ipa.clip-softmax.filter", "ipa.clip-cosine.filter", "ipa.siglip.filter", "ipa.vqa.filter",
    "plus.clip-softmax.filter", "sdxl.clip-softmax.filter",
]  # fmt: skip
FILTERED = [name for name in TINY_CELLS if name.endswith(".filter")]
GENERATORS = {"ipa": "ip-adapter", "plus": "ip-adapter-plus", "sdxl": "sdxl-ip-adapter"}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def test_real_grid_crosses_every_scorer_with_filter_on_and_off():
    spec = load_spec(SPEC)
    cells = build_cells(spec, spec.out_dir)
    assert {cell.config.data.dataset for cell in cells} == {"pets", "caltech101", "flowers102"}
    assert {cell.shots for cell in cells} == {1} and len(cells) == 3 * 3 * 8 * 3  # datasets x generators x 8 x trials
    config = {cell.method: cell.config for cell in cells if cell.dataset == "pets" and cell.trial == 0}
    for prefix, generator in GENERATORS.items():
        for scorer in ("clip-softmax", "clip-cosine", "siglip", "vqa"):
            plain, filtered = config[f"{prefix}.{scorer}"], config[f"{prefix}.{scorer}.filter"]
            assert plain.score.variant == filtered.score.variant == filtered.filter.scorer == scorer
            assert not plain.filter.enabled and filtered.filter.enabled
            assert plain.generator.name == filtered.generator.name == generator and plain.data.shots == 1
            assert all(plain.evaluate.metrics[name]["enabled"] for name in ("dino", "dino_real", "fid", "kid"))
    assert config["sdxl.vqa"].generator.resolution == 1024 and config["plus.vqa"].generator.resolution == 512
    vqa = config["ipa.vqa"]  # each scorer keeps its own default alpha (α unset: resolved when the plan is bound)
    assert vqa.guidance.alpha is None and SCORERS.get(vqa.score.variant).default_alpha == 0.5
    stages = {cell.method: cell.stages for cell in cells}
    assert stages["ipa.siglip.filter"] == ("data", "score", "prompts", "plan", "generate", "filter", "train", "evaluate")
    assert "filter" not in stages["ipa.siglip"]
    tiny = build_cells(load_spec(SPEC, "tiny"), Path("runs/beyond-tiny"), "tiny")
    assert sorted(cell.method for cell in tiny) == sorted(TINY_CELLS)
    assert {cell.config.score.variant for cell in tiny} == {"clip-softmax", "clip-cosine", "siglip", "vqa"}
    filtered_generators = {cell.config.generator.name for cell in tiny if cell.config.filter.enabled}
    assert filtered_generators == set(GENERATORS.values())


@pytest.mark.parametrize("profile", [None, "tiny"])
def test_every_generator_and_scorer_of_a_dataset_and_trial_reads_one_prompt_set(profile):
    spec = load_spec(SPEC, profile)
    cells = build_cells(spec, spec.out_dir, profile)
    prompts, store = ARTEFACTS_BY_NAME["prompts"], SharedStore(spec.out_dir)
    folders: dict[tuple[str, int], set[Path]] = {}
    for cell in cells:
        folders.setdefault((cell.dataset, cell.trial), set()).add(store.folder(prompts, cell.dataset, cell.config))
    assert all(len(found) == 1 for found in folders.values()), folders
    assert len({cell.config.generator.name for cell in cells}) == 3
    assert len({cell.config.score.variant for cell in cells}) == 4


@pytest.mark.slow
def test_tiny_beyond_grid_report_shows_every_comparison(tmp_path):
    out = tmp_path / "beyond"
    command = [sys.executable, "-m", "dalda.cli", "experiment", str(SPEC), "--models", "tiny", "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ}, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = next(out.rglob("report/manifest.json")).parent
    manifest = json.loads((report / "manifest.json").read_text())
    page = (report / "index.html").read_text()
    runs = {name: RunDir(out / "demo" / "1shot" / "trial0" / name) for name in TINY_CELLS}
    prompt_requests = [line for line in SharedStore(out).created() if line["artefact"] == "prompts"]
    assert len(prompt_requests) == 1  # one prompt set for the (dataset, trial), whatever the generator and scorer

    accuracy = _rows(report / "tables" / "beyond_accuracy_1shot.csv")
    assert {(row["Generator"], row["Scorer"], row["Filter"].split(" ")[0]) for row in accuracy} == {
        ("ip-adapter", "softmax", "off"), ("ip-adapter", "softmax", "on"), ("ip-adapter", "cosine", "on"),
        ("ip-adapter", "siglip", "on"), ("ip-adapter", "vqa", "on"), ("ip-adapter-plus", "softmax", "on"),
        ("sdxl-ip-adapter", "softmax", "on"),
    }  # fmt: skip
    siglip = next(row for row in accuracy if row["Scorer"] == "siglip")
    clip_column = next(key for key in siglip if key.endswith("Acc-CLIP") or "CLIP" in key and "std" not in key
                       and key not in ("Scorer",) and not key.endswith(" n"))  # fmt: skip
    result = json.loads((runs["ipa.siglip.filter"].results / "clip.json").read_text())
    assert float(siglip[clip_column]) == pytest.approx(result["accuracy"])

    diversity = _rows(report / "tables" / "beyond_diversity_1shot.csv")
    header = diversity[0].keys()
    for title in ("DINO (↓)", "DINO vs real (↓)", "FID (↓)", "KID (↓)", "CLIP-I (↓)", "LPIPS (↑)"):
        assert any(key.endswith(title) for key in header), (title, list(header))
    fid_column = next(key for key in header if key.endswith("FID (↓)"))
    row = next(r for r in diversity if r["Scorer"] == "softmax" and r["Filter"] == "off")
    values = json.loads(runs["ipa.clip-softmax"].diversity.read_text())
    assert float(row[fid_column]) == pytest.approx(values["fid"]) and values["fidelity"]["num_real"] > 1
    for name in FILTERED:  # kept-only numbers beside all-image ones, over the images training used
        values = json.loads(runs[name].diversity.read_text())
        kept = sum(decision.kept for decision in FilterRecord.read_all(runs[name]))
        assert values["kept"]["num_images"] == kept and values["num_images"] == len(ManifestLine.read_all(runs[name]))
    assert any(key.endswith("FID (↓) kept") for key in header) and any(key.endswith("kept images") for key in header)

    counts = {row["Run"].split(os.sep)[-1]: row for row in _rows(report / "tables" / "beyond_filter.csv")}
    assert set(counts) == set(FILTERED)
    for name, row in counts.items():
        decisions = FilterRecord.read_all(runs[name])
        assert int(row["Images"]) == len(decisions) == len(ManifestLine.read_all(runs[name]))
        assert int(row["Kept"]) == sum(d.kept for d in decisions)
        assert int(row["Rejected"]) == sum(not d.kept for d in decisions)
    assert sum(int(row["Rejected"]) for row in counts.values()) > 0  # the example figure has rejected images
    assert not runs["ipa.clip-softmax"].filter_decisions.exists()

    figures = {Path(entry["file"]).name for entry in manifest["figures"]}
    assert {"beyond_scores_per_scorer.png", "beyond_lambda_per_scorer.png", "beyond_filter_examples.png"} <= figures
    for name in ("beyond_accuracy_1shot", "beyond_diversity_1shot", "beyond_filter"):
        assert f"tables/{name}.csv" in page
    assert "Beyond the paper" in page and 'data-file="figures/beyond_filter_examples.png"' in page
