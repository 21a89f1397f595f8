"""The experiment grid: methods, spec layering, shipped paper configs, shared artefacts, and the runner end to end."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from dalda.configure import build_config
from dalda.experiments.runner import config_conflicts, run_experiment
from dalda.experiments.shared_artefacts import SharedStore
from dalda.methods import get_method, method_of
from dalda.experiments.spec import ExperimentSpecError, build_cells, canonical_name, load_spec
from dalda.rundir import RunDir

CONFIGS = sorted((Path(__file__).parent.parent / "configs" / "experiments").glob("*.yaml"))
TINY_BASE = {
    "data": {"max_eval_per_class": 4},
    "models": {"profile": "tiny"},
    "prompts": {"num_prompts": 2},
    "plan": {"images_per_real": 2},
    "generator": {"resolution": 64, "steps": 2},
    "train": {"epochs": 1, "iterations_per_epoch": 3, "batch_size": 8, "image_size": 32, "protocol": "fast"},
    "evaluate": {"metrics": {"lpips": {"size": 64}}, "max_pairs": 10},
}


PAPER_METHODS = ["none", "real-guidance", "da-fusion", "base-rs", "base-ags", "llm-rs", "llm-ags"]
"""The methods of the paper's Tab. 1-3, in its table order."""


def _write(path: Path, spec: dict) -> Path:
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


@pytest.mark.parametrize("name", [*PAPER_METHODS, "base-fixed-0", "llm-fixed-0.3", "llm-fixed-1", "llm-ags-clipped"])
def test_each_method_config_runs_the_method_it_is_named_after(name):
    assert method_of(build_config(get_method(name).overrides)).name == name


def test_method_names_are_canonical_and_unknown_ones_list_the_choices():
    assert canonical_name("llm-fixed-0.50") == "llm-fixed-0.5" and canonical_name("base-fixed-1.0") == "base-fixed-1"
    assert canonical_name("llm-ags-m5") == "llm-ags-m5"  # an alias: no method reads it
    assert get_method("base-fixed-0.0").overrides["guidance"] == {"strategy": "fixed", "fixed_scale": 0.0}
    with pytest.raises(ValueError, match="unknown method 'dalda'.*llm-ags"):
        get_method("dalda")


def test_cell_configs_layer_base_tiny_dataset_method_and_overrides(tmp_path):
    spec = _write(tmp_path / "grid.yaml", {
        "name": "layers", "out_dir": str(tmp_path / "out"),
        "base": {"train": {"epochs": 7}, "plan": {"images_per_real": 5}},
        "datasets": [{"name": "imagefolder", "label": "mine", "root": str(tmp_path), "max_eval_per_class": 3}],
        "methods": [
            "none", "llm-fixed-0.50", {"name": "m1", "method": "llm-ags", "overrides": {"prompts": {"num_prompts": 1}}}
        ],
        "shots": [1, 2], "trials": [0, 1], "classifiers": ["clip"],
        "overrides": {"llm-fixed-0.5": {"plan": {"images_per_real": 2}}},
        "tiny": {"datasets": ["demo"], "shots": [1], "base": {"train": {"epochs": 1}}},
    })  # fmt: skip
    cells = build_cells(load_spec(spec), tmp_path / "out")
    assert len(cells) == 12
    assert [c.method for c in cells[:3]] == ["none", "llm-fixed-0.5", "m1"]
    assert [(c.shots, c.trial) for c in cells[::3]] == [(1, 0), (1, 1), (2, 0), (2, 1)]
    none, fixed, m1 = cells[:3]
    assert none.stages == ("data", "train", "evaluate") and none.config.train.synthetic_probability == 0
    assert fixed.config.plan.images_per_real == 2 and fixed.config.guidance.fixed_scale == 0.5
    assert m1.config.plan.images_per_real == 5 and m1.config.prompts.num_prompts == 1
    assert method_of(m1.config).name == "llm-ags"
    assert m1.config.data.max_eval_per_class == 3 and m1.config.train.epochs == 7
    assert m1.config.train.classifiers == ["clip"]
    assert m1.config.out_dir == tmp_path / "out" / "mine" / "1shot" / "trial0" / "m1"

    tiny = build_cells(load_spec(spec, "tiny"), tmp_path / "out", "tiny")
    assert len(tiny) == 6 and {c.config.data.dataset for c in tiny} == {"demo"}
    assert all(c.config.models.profile == "tiny" and c.config.train.epochs == 1 for c in tiny)
    assert tiny[0].config.data.root == SharedStore(tmp_path / "out").demo_root


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"methods": ["llm-ags"], "overrides": {"llm-ags": {"guidance": {"strategy": "random"}}}},
            "run 'llm-rs', not 'llm-ags'",
        ),
        ({"overrides": {"base-rs": {}}}, "not in the grid: \\['base-rs'\\]"),
        ({"methods": ["none", "none"]}, "must be unique"),
        ({"base": {"train": {"epochs": 0}}}, "cell demo/1shot/trial0/none: invalid configuration"),
        ({"methods": ["ours"]}, "method 'ours': unknown method"),
        ({"shots": []}, "shots is empty"),
        ({"datasets": [{"name": "demo", "label": "../escape"}]}, "datasets\\[0\\] label .* path separator"),
        ({"datasets": [{"name": "demo", "label": "/abs"}]}, "path separator"),
        ({"datasets": [{"name": "demo", "label": ".."}]}, "not a folder name"),
        ({"datasets": [{"name": "demo", "label": " "}]}, "is empty"),
        ({"methods": [{"name": "a\nb", "method": "none"}]}, "methods\\[0\\] name .* control character"),
        ({"methods": [{"name": "../../x", "method": "none"}]}, "grid.yaml is invalid: .*methods\\[0\\] name .*path separator"),
    ],
)
def test_invalid_grids_fail_before_anything_runs(tmp_path, change, message):
    grid = {"name": "bad", "out_dir": str(tmp_path), "datasets": ["demo"], "methods": ["none"], **change}
    spec = _write(tmp_path / "grid.yaml", grid)
    with pytest.raises(ExperimentSpecError, match=message):
        build_cells(load_spec(spec), tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["grid.yaml"]


def test_unknown_models_profile_is_refused(tmp_path):
    spec = _write(tmp_path / "grid.yaml", {"name": "x", "out_dir": str(tmp_path), "datasets": ["demo"], "methods": ["none"]})
    with pytest.raises(ExperimentSpecError, match="'huge' is not a models profile"):
        run_experiment(spec, "huge")


def test_shipped_paper_configs_build_and_agree_on_shared_cells():
    """Real and tiny grids validate; grids sharing out_dir give a shared cell the same config (else it conflicts)."""
    assert {path.stem for path in CONFIGS} >= {"tab1_tab2", "tab3", "fig6_fig7", "fig8", "fig9"}
    for profile in (None, "tiny"):
        seen: dict[Path, dict] = {}
        for path in CONFIGS:
            spec = load_spec(path, profile)
            cells = build_cells(spec, spec.out_dir, profile)
            datasets = {cell.config.data.dataset for cell in cells}
            if profile == "tiny":
                assert datasets == {"demo"} and {c.config.prompts.backend for c in cells} == {"template"}
                assert len(cells) <= 8, f"{path.name}: too many tiny cells for a few minutes on a CPU"
            else:
                assert datasets <= {"pets", "caltech101", "flowers102"} and len({c.trial for c in cells}) == 3
            for cell in cells:
                dump = cell.config.model_dump(mode="json")
                assert seen.setdefault(cell.config.out_dir, dump) == dump, f"{path.name}: {cell.key} differs"
    tab2 = build_cells(load_spec(CONFIGS[[p.stem for p in CONFIGS].index("tab1_tab2")]), Path("runs/paper"))
    assert {c.method for c in tab2} == {"real-guidance", "da-fusion", "base-rs", "base-ags", "llm-rs", "llm-ags"}
    assert len(tab2) == 3 * 6 * 3


def test_shared_store_hands_files_only_to_cells_with_the_same_settings(tmp_path):
    store = SharedStore(tmp_path / "out")
    config = build_config({"data": {"dataset": "demo"}, "prompts": {"source": "llm"}})
    first = RunDir(tmp_path / "a").ensure()
    for name in ("split", "scores", "prompts", "prompts_record"):
        getattr(first, name).write_text(name)
    assert store.publish("demo", config, first) == ["split", "scores", "prompts"]

    same = RunDir(tmp_path / "b")
    assert store.fill("demo", config, same) == ["split", "scores", "prompts"]
    assert same.prompts.read_text() == "prompts" and same.split.read_text() == "split"
    assert same.features.is_symlink() and same.features.resolve() == store.features("demo").resolve()

    other_prompts = config.model_copy(update={"prompts": config.prompts.model_copy(update={"source": "base"})})
    assert store.fill("demo", other_prompts, RunDir(tmp_path / "c")) == ["split", "scores"]
    other_trial = config.model_copy(update={"data": config.data.model_copy(update={"trial": 1})})
    assert store.fill("demo", other_trial, RunDir(tmp_path / "d")) == ["prompts"]  # prompts do not depend on the trial


@pytest.fixture(scope="module")
def tab2_tiny(tmp_path_factory):
    """The shipped Tab. 1/2 grid, offline on the demo with tiny models (run once for the tests below)."""
    out = tmp_path_factory.mktemp("tab2") / "out"
    spec = next(path for path in CONFIGS if path.stem == "tab1_tab2")
    return spec, out, run_experiment(spec, "tiny", out)


@pytest.mark.slow
def test_paper_tab2_grid_runs_offline_with_every_method(tab2_tiny):
    """The issue's bar: every method of Tab. 1/2 runs end to end (baselines and textual inversion included)."""
    _, out, summary = tab2_tiny
    assert summary.failed == [], [cell.error for cell in summary.failed]
    lines = (summary.folder / "report" / "tables" / "tab2_accuracy_1shot.csv").read_text().splitlines()
    tab2 = [line for line in lines if not line.split(",")[0].endswith("(reference)")]
    assert [line.split(",")[0] for line in lines if line not in tab2] == [
        "Real images only (reference)", "Zero-shot CLIP (reference)",
    ]  # fmt: skip
    # The offline template backend wrote the prompts: the llm-* cells are reported under honest titles.
    titles = {method_of(build_config(get_method(name).overrides), "template").title: name for name in PAPER_METHODS}
    assert [line.split(",")[0] for line in tab2[1:]] == [
        "Real Guidance", "DA-Fusion", "Base Prompt + RS", "Base Prompt + AGS",
        "Template Prompt + RS", "Template Prompt + AGS",
    ]  # fmt: skip
    for line in tab2[1:]:
        run = RunDir(out / "demo" / "1shot" / "trial0" / titles[line.split(",")[0]])
        assert float(line.split(",")[1]) == json.loads((run.results / "clip.json").read_text())["accuracy"]
        assert json.loads((run.root / "cell.json").read_text())["method"] == titles[line.split(",")[0]]


@pytest.mark.slow
def test_cells_share_split_scores_prompts_and_features(tab2_tiny):
    _, out, _ = tab2_tiny
    cells = {m: RunDir(out / "demo" / "1shot" / "trial0" / m) for m in ("base-rs", "base-ags", "llm-rs", "llm-ags")}
    assert len({run.split.read_bytes() for run in cells.values()}) == 1
    scores = {run.scores.read_bytes() for run in cells.values()}  # RS draws λ without them; the report plots them
    assert len(scores) == 1
    assert cells["llm-rs"].prompts.read_bytes() == cells["llm-ags"].prompts.read_bytes()
    assert not cells["base-rs"].prompts.exists() and not cells["base-ags"].prompts.exists()  # the base prompt
    for run in cells.values():
        assert os.readlink(run.features) == os.path.relpath(SharedStore(out).features("demo"), run.root)


@pytest.mark.slow
def test_rerun_skips_finished_cells_and_a_changed_grid_is_a_conflict(tab2_tiny, tmp_path):
    spec, out, first = tab2_tiny
    results = out / "demo" / "1shot" / "trial0" / "llm-ags" / "results" / "clip.json"
    finished = results.stat().st_mtime_ns
    again = run_experiment(spec, "tiny", out)
    done = {cell.method for cell in first.cells if cell.status == "done"}
    assert {cell.status for cell in again.cells if cell.method in done} == {"skipped"}
    assert results.stat().st_mtime_ns == finished

    changed = yaml.safe_load(spec.read_text())
    changed["tiny"]["base"]["train"]["epochs"] = 2
    clash = run_experiment(_write(tmp_path / "changed.yaml", changed), "tiny", out)
    assert {cell.status for cell in clash.cells} == {"failed"}
    assert all("another config (differs in train.epochs)" in cell.error for cell in clash.cells)


@pytest.mark.slow
def test_a_broken_cell_is_reported_and_the_others_finish(tmp_path, capsys):
    out = tmp_path / "out"
    grid = {
        "name": "smoke", "out_dir": str(out), "base": TINY_BASE,
        "datasets": [{"name": "imagefolder", "label": "broken", "root": str(tmp_path / "missing")}, "demo"],
        "methods": ["none"], "shots": [1], "trials": [0], "classifiers": ["resnet50", "clip"],
    }  # fmt: skip
    summary = run_experiment(_write(tmp_path / "grid.yaml", grid))
    assert [(c.dataset, c.status) for c in summary.cells] == [("broken", "failed"), ("demo", "done")]
    assert "image folder" in summary.cells[0].error and "does not exist" in summary.cells[0].error
    assert "1 failed cell(s)" in capsys.readouterr().err
    recorded = json.loads(summary.path.read_text())
    assert recorded["counts"] == {"done": 1, "skipped": 0, "failed": 1, "running": 0}
    assert recorded["cells"][0]["error"] == summary.cells[0].error
    assert (out / "broken" / "1shot" / "trial0" / "none" / "experiment_error.txt").is_file()
    demo = RunDir(out / "demo" / "1shot" / "trial0" / "none")
    assert (demo.results / "clip.json").is_file() and not demo.plan.exists()
    html = Path(summary.report).read_text()
    assert "Failed cells (1)" in html and "broken/1shot/trial0/none" in html
    runs_csv = (summary.folder / "report" / "tables" / "runs.csv").read_text()
    assert f"demo,none,1,0,{json.loads((demo.results / 'clip.json').read_text())['accuracy']!r}," in runs_csv


def test_a_field_added_after_a_cell_ran_is_no_conflict_at_its_default(tmp_path):
    """A cell finished by an older dalda lacks newer fields in its config.yaml: at their defaults they match."""
    run = RunDir(tmp_path / "cell")
    run.root.mkdir()
    recorded = build_config().model_dump(mode="json")
    del recorded["train"]["real_only_reference"]
    run.config.write_text(yaml.safe_dump(recorded))
    assert config_conflicts(build_config(), run) == []
    changed = build_config({"train": {"real_only_reference": False}})
    assert config_conflicts(changed, run) == ["train.real_only_reference"]
    recorded["train"]["epochs"] = 3
    run.config.write_text(yaml.safe_dump(recorded))
    assert config_conflicts(build_config(), run) == ["train.epochs"]
    run.config.write_text("train: [unclosed\n")
    assert config_conflicts(build_config(), run)[0].startswith("config.yaml unreadable: ")


def test_a_cell_recorded_in_old_spellings_is_the_same_cell(tmp_path):
    """Fields that moved (the generator's checkpoints and sampler) are read where they live now: no conflict."""
    run = RunDir(tmp_path / "cell")
    run.root.mkdir()
    recorded = build_config({"generator": {"name": "da-fusion", "steps": 2, "ti_steps": 2}}).model_dump(mode="json")
    generator = recorded["generator"]
    recorded["models"].update(sd_model=generator.pop("sd_model"), vae=generator.pop("vae"))
    recorded["generation"].update(resolution=generator.pop("resolution"), negative_prompt=None)
    generator["da_fusion_strengths"] = generator.pop("strengths")
    run.config.write_text(yaml.safe_dump(recorded))
    assert config_conflicts(build_config({"generator": {"name": "da-fusion", "steps": 2, "ti_steps": 2}}), run) == []
    assert config_conflicts(build_config({"generator": {"name": "da-fusion", "ti_steps": 2}}), run) == [
        "generator.steps"
    ]


@pytest.mark.slow
def test_a_grid_fits_each_real_only_reference_once_and_every_method_cell_reuses_it(tmp_path, monkeypatch):
    """One real-only fit per (dataset, shots, trial, classifier, protocol), however many method cells need it."""
    import dalda.training.stage as train_stage

    fits: list[tuple[str, int, int, str, str]] = []
    real_train = train_stage.train_classifier

    def counting(classifier, config, training_set, *args, **kwargs):
        if training_set.synthetic_source == "none (real-only reference)":
            data = config.data
            fits.append((data.dataset, data.shots, data.trial, classifier, config.train.protocol))
        return real_train(classifier, config, training_set, *args, **kwargs)

    monkeypatch.setattr(train_stage, "train_classifier", counting)
    out = tmp_path / "out"
    grid = {
        "name": "references", "out_dir": str(out), "base": TINY_BASE, "datasets": ["demo"],
        "methods": ["none", "base-rs", "base-fixed-1"], "shots": [1], "trials": [0, 1],
        "classifiers": ["clip", "resnet50"], "report": False,
    }  # fmt: skip
    summary = run_experiment(_write(tmp_path / "grid.yaml", grid))
    assert summary.failed == [], [cell.error for cell in summary.failed]
    expected = {("demo", 1, trial, classifier, "fast") for trial in (0, 1) for classifier in ("clip", "resnet50")}
    assert sorted(fits) == sorted(expected)  # exactly one per key: the two method cells of a trial share it
    for trial in (0, 1):
        cells = [RunDir(out / "demo" / "1shot" / f"trial{trial}" / m) for m in ("base-rs", "base-fixed-1")]
        for classifier in ("clip", "resnet50"):
            heads = {run.reference_checkpoint_file(classifier).read_bytes() for run in cells}
            assert len(heads) == 1
            for run in cells:
                result = json.loads(run.result_file(classifier).read_text())
                assert result["gain_over_real_only"]["num_eval"] == len(result["labels"])
        none = RunDir(out / "demo" / "1shot" / f"trial{trial}" / "none")
        assert not none.real_only_results.exists() or not any(none.real_only_results.iterdir())
