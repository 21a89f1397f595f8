"""The report: tables equal the results files they come from, the t-test equals scipy, the HTML embeds every figure.

Run directories are written by hand here (config.yaml, results/, diversity.json, scores.jsonl, plan.jsonl,
synthetic/), so every expected number is known without running the pipeline.
"""

from __future__ import annotations

import base64
import csv
import re
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from report_images_support import make_image_run
from scipy import stats

from dalda.artefacts import CellInfo, ClassifierResult, DiversityReport, ManifestLine, PlanRow, ScoreRecord
from dalda.config import config_to_yaml
from dalda.configure import build_config
from dalda.methods import get_method
from dalda.report.collect import dataset_groups, load_runs
from dalda.report.stage import build_report, run_report_stage
from dalda.report.tables import summarize
from dalda.rundir import RunDir

CLASSES = ["cat", "dog"]
TITLES = {
    "real-guidance": "Real Guidance",
    "base-rs": "Base Prompt + RS",
    "template-ags": "Template Prompt + AGS",
}
"""What the report titles the methods these tests run (a table row is found by its title)."""


def _image(path: Path, colour: tuple[int, int, int]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (16, 16), colour).save(path)
    return path


def _deep_merge(base: dict, extra: dict) -> dict:
    merged = dict(base)
    for key, value in extra.items():
        merged[key] = _deep_merge(merged[key], value) if isinstance(value, dict) and key in merged else value
    return merged


def make_run(
    root: Path,
    *,
    dataset: str,
    method: str,
    shots: int = 1,
    trial: int = 0,
    accuracy: dict[str, float] | None = None,
    clip_i: float | None = None,
    lpips: float | None = None,
    real_scores: list[float] | None = None,
    lambdas: list[float] | None = None,
    num_prompts: int = 10,
    alias: str | None = None,
    backend: str = "template",
) -> RunDir:
    """A finished run directory as the pipeline would leave it (only the files the report reads).

    ``method`` may be an honest name (``template-ags``: the ``llm-ags`` recipe, prompts by the template backend);
    ``backend`` is ``prompts.backend`` (the default, template, is no LLM: its runs are reported as template-*).
    """
    runs = "llm-" + method.removeprefix("template-") if method.startswith("template-") else method
    values = _deep_merge(
        {"out_dir": str(root), "data": {"dataset": dataset, "shots": shots, "trial": trial}},
        get_method(runs).overrides,
    )
    values = _deep_merge(values, {"prompts": {"num_prompts": num_prompts, "backend": backend}})
    config = build_config(values)
    run = RunDir(root).ensure()
    run.config.write_text(config_to_yaml(config))
    if alias:
        CellInfo("test", dataset, alias, shots, trial).write(run)
    data = root.parent / f"real-{dataset}-{shots}-{trial}"
    reals = [_image(data / f"{i}.png", (40 * i % 256, 90, 160)) for i in range(len(real_scores or []))]
    if real_scores:
        ScoreRecord.write_all(
            run,
            [
                ScoreRecord(path=str(path.resolve()), class_name=CLASSES[i % 2], label=i % 2, sha256="x",
                            measures={"softmax": score, "cosine": 0.3, "hessel": 0.75}, clip_model="m", template="a photo of a {}",
                            classes_digest="d")
                for i, (path, score) in enumerate(zip(reals, real_scores))
            ],
        )  # fmt: skip
    if lambdas and reals:
        plan, manifest = [], []
        for row_id, scale in enumerate(lambdas):
            source = reals[row_id % len(reals)]
            row = PlanRow(row_id=row_id, class_name=CLASSES[row_id % 2], label=row_id % 2,
                          source_path=str(source.resolve()), source_index=row_id % len(reals), m=row_id // len(reals),
                          prompt=f"best quality, high quality, a photo of a {CLASSES[row_id % 2]} number {row_id}",
                          ip_scale=scale, clipscore=0.5, group="high", seed=row_id)  # fmt: skip
            plan.append(row)
            name = f"{row.class_name}/{row_id:06d}.png"
            _image(run.synthetic / name, (row_id * 20 % 256, 30, 30))
            manifest.append(ManifestLine(file_name=name, **asdict(row)))
        PlanRow.write_all(run, plan)
        ManifestLine.write_all(run, manifest)
    if clip_i is not None or lpips is not None:
        DiversityReport({"clip_i": clip_i, "lpips": lpips, "pairing_rule": "by_source"}).write(run)
    for classifier, value in (accuracy or {}).items():
        ClassifierResult(method=method, dataset=dataset, shots=shots, trial=trial, classifier=classifier,
                         accuracy=value, per_class_accuracy={}, num_eval=10).write(run.result_file(classifier))  # fmt: skip
    return run


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def _row(rows: list[dict[str, str]], method: str) -> dict[str, str]:
    (row,) = [row for row in rows if row["Method"] == TITLES[method]]
    return row


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    """Two datasets (pets HC, flowers LC) x three methods x three trials, accuracies drawn at random.

    The runs' prompts come from the template backend (the offline default), so DALDA's recipe is reported as
    template-ags, and the t-tests compare against it."""
    root = tmp_path_factory.mktemp("experiment")
    rng = np.random.default_rng(7)
    truth: dict[tuple[str, str, int], dict] = {}
    for dataset, level in (("pets", 0.85), ("flowers102", 0.45)):
        for method in ("real-guidance", "base-rs", "template-ags"):
            for trial in range(3):
                values = {
                    "accuracy": {"clip": float(rng.uniform(0.6, 0.95)), "resnet50": float(rng.uniform(0.4, 0.8))},
                    "clip_i": float(rng.uniform(0.8, 0.95)),
                    "lpips": float(rng.uniform(0.3, 0.7)),
                }
                truth[(dataset, method, trial)] = values
                lambdas = [float(x) for x in rng.uniform(0, 1, 4)] if method != "real-guidance" else None
                make_run(
                    root / dataset / "1shot" / f"trial{trial}" / method, dataset=dataset, method=method, trial=trial,
                    real_scores=[level + 0.05, level - 0.05], lambdas=lambdas, **values,
                )  # fmt: skip
    index = build_report(root)
    return root, index, truth


def _values(truth, dataset, method, key, classifier=None):
    return [
        truth[(dataset, method, trial)][key][classifier] if classifier else truth[(dataset, method, trial)][key]
        for trial in range(3)
    ]


def test_accuracy_and_diversity_tables_equal_the_results_files(grid):
    root, _, truth = grid
    tab2 = _read_csv(root / "report" / "tables" / "tab2_accuracy_1shot.csv")
    tab1 = _read_csv(root / "report" / "tables" / "tab1_diversity_1shot.csv")
    for method in ("real-guidance", "base-rs", "template-ags"):
        for dataset, title in (("pets", "Oxford Pets (HC)"), ("flowers102", "Flowers102 (LC)")):
            for classifier, column in (("clip", "Acc-CLIP"), ("resnet50", "Acc-RN50")):
                values = _values(truth, dataset, method, "accuracy", classifier)
                row = _row(tab2, method)
                assert float(row[f"{title} {column}"]) == pytest.approx(np.mean(values), abs=1e-15)
                assert float(row[f"{title} {column} std"]) == pytest.approx(np.std(values, ddof=1), abs=1e-15)
                assert row[f"{title} {column} n"] == "3"
            for key, column in (("clip_i", "CLIP-I (↓)"), ("lpips", "LPIPS (↑)")):
                values = _values(truth, dataset, method, key)
                assert float(_row(tab1, method)[f"{title} {column}"]) == pytest.approx(np.mean(values), abs=1e-15)


def test_runs_table_holds_each_results_file_value_exactly(grid):
    root, _, truth = grid
    rows = _read_csv(root / "report" / "tables" / "runs.csv")
    assert len(rows) == len(truth)
    for row in rows:
        expected = truth[(row["Dataset"], row["Method"], int(row["Trial"]))]
        assert float(row["Acc-CLIP"]) == expected["accuracy"]["clip"]
        assert float(row["Acc-RN50"]) == expected["accuracy"]["resnet50"]
        assert float(row["CLIP-I (↓)"]) == expected["clip_i"]


def test_group_table_pools_trials_and_paired_tests_equal_scipy(grid):
    root, _, truth = grid
    tab3 = _read_csv(root / "report" / "tables" / "tab3_groups_1shot.csv")
    tests = _read_csv(root / "report" / "tables" / "tab3_ttests_1shot.csv")
    for group, dataset in (("HC", "pets"), ("LC", "flowers102")):
        for classifier, column in (("resnet50", "Acc-RN50"), ("clip", "Acc-CLIP")):
            ours = _values(truth, dataset, "template-ags", "accuracy", classifier)
            assert float(_row(tab3, "template-ags")[f"{group} {column}"]) == pytest.approx(np.mean(ours), abs=1e-15)
            for other in ("real-guidance", "base-rs"):
                theirs = _values(truth, dataset, other, "accuracy", classifier)  # trial i pairs with trial i
                t_test, wilcoxon = stats.ttest_rel(ours, theirs), stats.wilcoxon(ours, theirs)
                (row,) = [
                    r for r in tests
                    if (r["Group"], r["Classifier"], r["Method"]) == (group, column, TITLES[other])
                ]  # fmt: skip
                assert float(row["t-test p"]) == pytest.approx(t_test.pvalue, rel=1e-12)
                assert float(row["paired t"]) == pytest.approx(t_test.statistic, rel=1e-12)
                assert float(row["Wilcoxon p"]) == pytest.approx(wilcoxon.pvalue, rel=1e-12)
                assert float(row["mean difference"]) == pytest.approx(np.mean(ours) - np.mean(theirs), abs=1e-15)
                assert row["pairs"] == "3" and row["Reference"] == TITLES["template-ags"]
    assert not [r for r in tests if r["Method"] == TITLES["template-ags"]]
    titles = {row["Method"] for row in tab3}
    assert "Template Prompt + AGS" in titles and not any("DALDA" in t or "LLM" in t for t in titles)


def test_markdown_rounds_and_bolds_the_best_value(grid):
    root, _, truth = grid
    text = (root / "report" / "tables" / "tab2_accuracy_1shot.md").read_text()
    methods = ("real-guidance", "base-rs", "template-ags")
    best = max(methods, key=lambda m: np.mean(_values(truth, "pets", m, "accuracy", "clip")))
    line = next(line for line in text.splitlines() if line.startswith(f"| {TITLES[best]} |"))
    mean = np.mean(_values(truth, "pets", best, "accuracy", "clip"))
    assert f"**{mean:.4f} ± " in line.split("|")[2]


def _embedded(index: Path) -> dict[str, bytes]:
    html = index.read_text()
    found = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)" data-file="([^"]+)"', html)
    assert len(found) == html.count('<img src="data:')  # the other images: gallery thumbnails (test_report_images.py)
    return {name: base64.b64decode(data) for data, name in found}


def test_html_embeds_every_figure_it_claims_and_links_existing_files(grid):
    root, index, _ = grid
    report = root / "report"
    embedded = _embedded(index)
    manifest = __import__("json").loads((report / "manifest.json").read_text())
    claimed = {entry["file"] for entry in manifest["figures"]}
    assert claimed == set(embedded) == {str(p.relative_to(report)) for p in (report / "figures").glob("*.png")}
    for name, data in embedded.items():
        assert (report / name).read_bytes() == data
    for href in re.findall(r'href="([^"]+)"', index.read_text()):
        assert (report / href).is_file(), href
    names = {Path(name).name for name in claimed}
    expected = {"fig4_clipscore_hist.png", "lambda_distribution.png", "fig5_pets_highest.png", "fig5_pets_lowest.png"}
    assert expected <= names
    assert manifest["groups"]["pets"]["group"] == "HC" and manifest["groups"]["flowers102"]["group"] == "LC"


def test_sweep_figures_appear_only_with_their_runs(tmp_path):
    """Fig. 7 needs several shot counts, Fig. 8 fixed-λ runs, Fig. 9 several prompt counts (grid aliases)."""
    accuracy = {"clip": 0.5, "resnet50": 0.4}
    for shots in (1, 2):
        make_run(tmp_path / f"s{shots}" / "llm-ags", dataset="pets", method="llm-ags", shots=shots, accuracy=accuracy)
    for source in ("base", "llm"):
        for scale in (0.0, 0.5, 1.0):
            name = f"{source}-fixed-{scale:g}"
            make_run(tmp_path / "s1" / name, dataset="pets", method=name, accuracy={"clip": scale, "resnet50": 0.3})
    for m in (1, 5):
        make_run(tmp_path / "s1" / f"m{m}", dataset="pets", method="llm-rs", num_prompts=m, accuracy=accuracy,
                 alias=f"llm-rs-m{m}", clip_i=0.9, lpips=0.5)  # fmt: skip
    index = build_report(tmp_path)
    names = {Path(name).name for name in _embedded(index)}
    assert {"fig7_accuracy_vs_shots.png", "fig8_fixed_lambda_1shot.png", "fig9_num_prompts_1shot.png"} <= names
    assert "fig6_diversity_vs_shots.png" not in names  # diversity exists at one shot count only
    runs = _read_csv(tmp_path / "report" / "tables" / "runs.csv")
    # Template prompts: an alias or fixed-λ name of an llm-* method is reported under the template source.
    assert {row["Method"] for row in runs} >= {"template-rs-m1", "template-rs-m5", "template-fixed-0.5", "base-fixed-0"}


def test_llm_and_template_runs_are_labelled_apart_and_each_tested_against_its_own_dalda(tmp_path):
    """An LLM backend's run keeps llm-ags (DALDA); a template run of the same grid cell is template-ags, and
    each prompt source's methods are t-tested against the AGS run of that source."""
    rng = np.random.default_rng(3)
    for trial in range(3):
        for method, backend in (("llm-ags", "openai"), ("llm-rs", "openai"), ("llm-ags", "template"),
                                ("llm-rs", "template"), ("base-rs", "template")):  # fmt: skip
            accuracy = {"clip": float(rng.uniform(0.4, 0.9))}
            make_run(tmp_path / backend / f"t{trial}" / method, dataset="pets", method=method, trial=trial,
                     accuracy=accuracy, backend=backend, alias=method, real_scores=[0.9, 0.8])  # fmt: skip
    build_report(tmp_path)
    runs = _read_csv(tmp_path / "report" / "tables" / "runs.csv")
    assert {(row["Run"].split("/")[0], row["Method"]) for row in runs} == {
        ("openai", "llm-ags"), ("openai", "llm-rs"), ("template", "template-ags"), ("template", "template-rs"),
        ("template", "base-rs"),
    }
    tests = _read_csv(tmp_path / "report" / "tables" / "tab3_ttests_1shot.csv")
    versus = {row["Method"]: row["Reference"] for row in tests}
    assert versus == {  # the two AGS runs are references, not compared with each other
        "LLM Prompt + RS": "LLM Prompt + AGS (DALDA)",
        "Template Prompt + RS": "Template Prompt + AGS",
        "Base Prompt + RS": "LLM Prompt + AGS (DALDA)",
    }


def test_single_run_report(tmp_path):
    run = make_run(
        tmp_path / "run", dataset="demo", method="llm-ags", accuracy={"clip": 0.625, "resnet50": 0.5},
        clip_i=0.91, lpips=0.33, real_scores=[0.9, 0.2], lambdas=[0.2, 0.8, 0.3, 0.75],
    )  # fmt: skip
    config = build_config({"out_dir": str(run.root)})
    index = run_report_stage(config, run)
    assert index == run.report / "index.html"
    (row,) = _read_csv(run.report / "tables" / "runs.csv")
    assert (row["Run"], float(row["Acc-CLIP"]), float(row["Acc-RN50"])) == ("run", 0.625, 0.5)
    names = {Path(name).name for name in _embedded(index)}
    assert {"fig4_clipscore_hist.png", "lambda_distribution.png", "fig5_demo_highest.png"} <= names


def test_report_of_an_empty_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no run directory"):
        build_report(tmp_path)


def test_summary_uses_sample_std():
    summary = summarize([1.0, 2.0, 4.0])
    assert (summary.mean, summary.std, summary.n) == (pytest.approx(7 / 3), pytest.approx(np.std([1, 2, 4], ddof=1)), 3)
    assert summarize([0.5]).std is None and summarize([]) is None


def test_datasets_split_into_hc_and_lc_at_the_threshold():
    scores = {"pets": {"a": 0.8, "b": 0.76}, "flowers102": {"c": 0.5, "d": 0.6}, "demo": {}}
    groups = dataset_groups(scores, ["pets", "flowers102", "demo"], threshold=0.7)
    assert groups["pets"].group == "HC" and groups["pets"].mean_score == pytest.approx(0.78)
    assert groups["flowers102"].group == "LC" and groups["demo"].group is None
    assert dataset_groups(scores, ["pets"], threshold=0.79)["pets"].group == "LC"


def test_ties_are_not_bold_and_a_run_given_as_dot_is_titled_by_its_folder(tmp_path, monkeypatch):
    from dalda.report.tables import Column, Table

    tied = Table("t", "tied", [Column("Method"), Column("Acc", better="higher")], [["a", 0.5], ["b", 0.5]])
    assert "**" not in tied.markdown() and "<b>" not in tied.html()
    mixed = Table("t", "mixed", [Column("Method"), Column("Acc", better="higher")], [["a", 0.5], ["b", 0.7]])
    assert mixed.markdown().count("**") == 2

    run = make_run(tmp_path / "my-run", dataset="demo", method="llm-ags", accuracy={"clip": 0.5})
    monkeypatch.chdir(run.root)
    index = run_report_stage(build_config({"out_dir": "."}), RunDir(Path(".")))
    assert "<title>dalda run report: my-run</title>" in index.read_text()


def test_header_says_how_runs_were_made_and_random_models_get_a_banner(tmp_path):
    from dalda.config import config_to_yaml as to_yaml

    real = make_run(tmp_path / "real", dataset="demo", method="llm-ags", accuracy={"clip": 0.5})
    page = run_report_stage(build_config({"out_dir": str(real.root)}), real).read_text()
    assert "How the runs were made" in page and "class='banner'" not in page
    config = build_config({"out_dir": str(real.root)})
    for text in (config.generator.sd_model, f"{config.generator.steps} steps", f"{config.generator.resolution} px",
                 f"llm via {config.prompts.backend}", "demo, 1-shot trial 0"):
        assert text in page, text

    tiny = make_run(tmp_path / "tiny", dataset="demo", method="llm-ags", accuracy={"clip": 0.5})
    tiny_config = build_config({"out_dir": str(tiny.root), "models": {"profile": "tiny"}})
    tiny.config.write_text(to_yaml(tiny_config))
    page = run_report_stage(tiny_config, tiny).read_text()
    assert "class='banner'" in page and "RANDOM MODELS (profile tiny)" in page


def test_single_runs_on_two_folders_of_one_dataset_are_not_pooled(tmp_path):
    """Two runs of one dataset name on different data folders (two photo folders) get two dataset labels."""
    roots = {}
    for name, folder in (("a", "photos/cats"), ("b", "archive/cats"), ("c", "photos/cats")):
        run = make_image_run(tmp_path / name, classes=2, overrides={"data": {"root": str(tmp_path / folder)}})
        roots[name] = run.root
    labels = {record.root.name: record.dataset for record in load_runs(list(roots.values()))}
    assert labels == {"a": "demo (photos/cats)", "b": "demo (archive/cats)", "c": "demo (photos/cats)"}
    same = load_runs([roots["a"], roots["c"]])
    assert {record.dataset for record in same} == {"demo"}
