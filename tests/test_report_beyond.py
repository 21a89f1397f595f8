"""The report's "Beyond the paper" section on hand-written run directories: every number equals the file it
comes from, histograms never mix two scorers, and optional metric columns appear only when a run has them."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from PIL import Image

from dalda.artefacts import ClassifierResult, DiversityReport, FilterRecord, ManifestLine, PlanRow, ScoreRecord
from dalda.config import config_to_yaml
from dalda.configure import build_config
from dalda.report.collect import load_runs, real_image_scores, real_image_scores_by_scorer
from dalda.report.stage import build_report
from dalda.rundir import RunDir

MEASURE = {"softmax": "softmax", "siglip": "siglip_softmax"}


def _image(path: Path, shade: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (16, 16), (shade, 80, 120)).save(path)
    return path


def _run(
    root: Path, name: str, scorer: str, filtered: bool, accuracy: float, extra: dict | None = None, budget: str = "uniform"
) -> RunDir:
    values = {
        "plan": {"budget": budget},
        "out_dir": str(root / name),
        "data": {"dataset": "pets"},
        "prompts": {"source": "llm"},
        "score": {"variant": scorer},
        "filter": {"enabled": filtered, "scorer": scorer, "min_score": 0.5},
        "train": {"classifiers": ["clip"]},
    }
    config = build_config(values)
    run = RunDir(root / name).ensure()
    run.config.write_text(config_to_yaml(config))
    reals = [_image(root / "real" / f"{i}.png", 30 * i) for i in range(4)]
    values_of = [0.2, 0.4, 0.6, 0.8] if scorer == "softmax" else [0.05, 0.1, 0.15, 0.9]
    ScoreRecord.write_all(run, [
        ScoreRecord(path=str(path.resolve()), class_name="cat", label=0, sha256="x",
                    measures={MEASURE[scorer]: value}, clip_model="m", template="a photo of a {}", classes_digest="d")
        for path, value in zip(reals, values_of)
    ])  # fmt: skip
    plan, manifest, decisions = [], [], []
    for row_id in range(6):
        row = PlanRow(row_id=row_id, class_name="cat", label=0, source_path=str(reals[row_id % 4].resolve()),
                      source_index=row_id % 4, m=row_id // 4, prompt="a photo of a cat",
                      ip_scale=0.1 * (row_id + 1) if scorer == "softmax" else 0.8, clipscore=0.5, group="high",
                      seed=row_id, scorer=scorer)  # fmt: skip
        plan.append(row)
        file_name = f"cat/{row_id:06d}.png"
        _image(run.synthetic / file_name, 40 * row_id)
        manifest.append(ManifestLine(file_name=file_name, row_id=row_id, label=0, class_name="cat",
                                     source_path=row.source_path, prompt=row.prompt, ip_scale=row.ip_scale))  # fmt: skip
        kept = row_id % 3 != 0
        decisions.append(FilterRecord(file_name=file_name, row_id=row_id, label=0, sha256="s", scorer=scorer,
                                      scorer_model="m", score=0.9 if kept else 0.1, top_label=0,
                                      source_similarity=None, similarity_model=None, kept=kept,
                                      reasons=[] if kept else ["low_score"]))  # fmt: skip
    PlanRow.write_all(run, plan)
    ManifestLine.write_all(run, manifest)
    if filtered:
        FilterRecord.write_all(run, decisions)
    DiversityReport({"clip_i": 0.8, "lpips": 0.3, **(extra or {})}).write(run)
    ClassifierResult(method="llm-ags", dataset="pets", shots=1, trial=0, classifier="clip", accuracy=accuracy,
                     per_class_accuracy={}, num_eval=10).write(run.result_file("clip"))  # fmt: skip
    return run


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_beyond_section_compares_scorers_and_filter(tmp_path):
    root = tmp_path / "grid"
    _run(root, "softmax", "softmax", False, 0.5, {"dino": 0.7, "fid": 12.5, "kid": 0.01})
    kept = {"kept": {"num_images": 4, "clip_i": 0.75, "lpips": 0.35, "dino": 0.55, "fid": 10.0, "kid": 0.015}}
    _run(root, "softmax.filter", "softmax", True, 0.6, {"dino": 0.6, "fid": 11.0, "kid": 0.02, **kept})
    _run(root, "siglip", "siglip", False, 0.7)
    records = load_runs([root / name for name in ("softmax", "softmax.filter", "siglip")])

    by_scorer = real_image_scores_by_scorer(records)
    assert sorted(by_scorer["softmax"]["pets"].values()) == [0.2, 0.4, 0.6, 0.8]
    assert sorted(by_scorer["siglip"]["pets"].values()) == [0.05, 0.1, 0.15, 0.9]
    assert real_image_scores(records)["pets"] == by_scorer["softmax"]["pets"]  # Fig. 4: one scorer, the paper's

    report = Path(build_report(root)).parent
    accuracy = _csv(report / "tables" / "beyond_accuracy_1shot.csv")
    assert [(r["Scorer"], r["Filter"], float(r["Oxford Pets Acc-CLIP"])) for r in accuracy] == [
        ("siglip", "off", 0.7), ("softmax", "off", 0.5), ("softmax", "on (softmax < 0.5)", 0.6)
    ]  # fmt: skip
    diversity = _csv(report / "tables" / "beyond_diversity_1shot.csv")
    fid = {r["Filter"]: r["Oxford Pets FID (↓)"] for r in diversity if r["Scorer"] == "softmax"}
    assert fid == {"off": "12.5", "on (softmax < 0.5)": "11.0"}
    assert next(r for r in diversity if r["Scorer"] == "siglip")["Oxford Pets FID (↓)"] == ""
    filtered = next(r for r in diversity if r["Filter"].startswith("on"))  # kept-only beside all-image numbers
    assert (filtered["Oxford Pets kept images"], filtered["Oxford Pets FID (↓) kept"]) == ("4.0", "10.0")
    assert (filtered["Oxford Pets CLIP-I (↓) kept"], filtered["Oxford Pets CLIP-I (↓)"]) == ("0.75", "0.8")
    assert next(r for r in diversity if r["Filter"] == "off")["Oxford Pets FID (↓) kept"] == ""
    assert "Oxford Pets DINO vs real (↓)" not in diversity[0]  # no run has it: no column
    (counts,) = _csv(report / "tables" / "beyond_filter.csv")
    assert (counts["Images"], counts["Kept"], counts["Rejected"], counts["rejected: low_score"]) == ("6", "4", "2", "2")
    figures = {path.name for path in (report / "figures").iterdir()}
    assert {"beyond_scores_per_scorer.png", "beyond_lambda_per_scorer.png", "beyond_filter_examples.png"} <= figures


def test_no_beyond_section_when_runs_share_scorer_generator_and_filter(tmp_path):
    root = tmp_path / "grid"
    _run(root, "a", "softmax", False, 0.5)
    report = Path(build_report(root / "a")).parent
    assert not list((report / "tables").glob("beyond_*")) and not list((report / "figures").glob("beyond_*"))
    (row,) = _csv(report / "tables" / "tab1_diversity_1shot.csv")
    assert not any("DINO" in key or "FID" in key or "KID" in key for key in row)
    assert float(next(value for key, value in row.items() if key.endswith("CLIP-I (↓)"))) == pytest.approx(0.8)


def test_budget_is_an_axis_of_the_beyond_section(tmp_path):
    root = tmp_path / "grid"
    _run(root, "uniform", "softmax", False, 0.5)
    _run(root, "adaptive", "softmax", False, 0.6, budget="adaptive")
    report = Path(build_report(root)).parent
    accuracy = _csv(report / "tables" / "beyond_accuracy_1shot.csv")
    assert [(r["Budget"], float(r["Oxford Pets Acc-CLIP"])) for r in accuracy] == [
        ("adaptive (floor 0.25)", 0.6), ("uniform", 0.5)
    ]  # fmt: skip
