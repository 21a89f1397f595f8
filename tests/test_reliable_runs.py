"""Issue 21, items 1-4 and 6: relocatable runs, guarded regeneration, a run's config is what made it, one writer
per run for every entry point, and no folder adopted for its file names.

The fast tests build run files by hand (``make_run``); the end-to-end ones (``slow``) run the tiny offline
models through the CLI once and then copy, move and re-run that run.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_training_support import make_run, tiny_run_config
from typer.testing import CliRunner

from dalda.artefacts import ManifestLine, PlanRow, Split, read_split_for
from dalda.cli import app
from dalda.config import ConfigError, DaldaConfig, config_to_yaml
from dalda.configure import CHOICES, build_config, load_config
from dalda.generation.__main__ import main as generation_main
from dalda.generation.manifest import DISCARD_SHARE, RegenerationRefused, consolidate
from dalda.ownership import claim, flat_fields, history
from dalda.pipeline import StaleOutputsError, recorded_config, run_pipeline, stale_stages
from dalda.rundir import RunDir

SRC = Path(__file__).resolve().parents[1] / "src"


def _said(result: Any) -> str:
    """A CLI result's output as one line (rich wraps long messages)."""
    return " ".join(result.output.split())


def _images(run: RunDir) -> dict[str, int]:
    return {str(path.relative_to(run.synthetic)): path.stat().st_mtime_ns for path in run.synthetic.rglob("*.png")}


def _expected(run: RunDir) -> dict[int, ManifestLine]:
    return {line.row_id: line for line in ManifestLine.read_all(run)}  # type: ignore[misc]


# --- item 1: relocatable runs ------------------------------------------------------------------------------------


def test_split_json_stores_paths_relative_to_the_data_root_and_reads_them_back_absolute(tmp_path):
    config = tiny_run_config(tmp_path)
    run, split = make_run(config, images_per_real=0)
    stored = json.loads(run.split.read_text())
    paths = [record["path"] for record in stored["train"] + stored["eval"]]
    assert paths and not any(Path(path).is_absolute() for path in paths)
    assert Split.read(run).train == split.train and all(record.path.is_absolute() for record in split.train)


def test_a_moved_data_root_is_rebased_and_a_missing_one_names_the_root_to_set(tmp_path):
    config = tiny_run_config(tmp_path)
    run, split = make_run(config, images_per_real=0)
    old_root = Path(config.data.root)
    new_root = tmp_path / "moved-data"
    shutil.copytree(old_root, new_root)
    shutil.rmtree(old_root)
    with pytest.raises(FileNotFoundError, match="set -s data.root="):
        read_split_for(config.data, run)
    moved = config.model_copy(update={"data": config.data.model_copy(update={"root": new_root})})
    rebased = read_split_for(moved.data, run)
    assert [r.path for r in rebased.train] == [new_root / r.path.relative_to(old_root) for r in split.train]
    elsewhere = config.model_copy(update={"data": config.data.model_copy(update={"root": tmp_path / "nothing"})})
    with pytest.raises(ValueError, match=r"does not hold its images .*set -s data.root="):
        read_split_for(elsewhere.data, run)
    shutil.copytree(new_root, old_root)  # the shared demo data of other tests stays where it was


def test_plan_rows_store_source_paths_relative_and_read_back_absolute(tmp_path):
    config = tiny_run_config(tmp_path)
    run, split = make_run(config, images_per_real=0)
    source = split.train[0].path
    row = PlanRow(0, "a", 0, str(source), 0, 0, "p", 0.5, None, None, 1)
    PlanRow.write_all(run, [row])
    assert not Path(json.loads(run.plan.read_text())["source_path"]).is_absolute()
    assert PlanRow.read_all(run) == [row]


# --- item 2: guarded regeneration ----------------------------------------------------------------------------------


def test_discarding_many_finished_images_stops_naming_the_cause_and_regenerate_allows_it(tmp_path, caplog):
    config = tiny_run_config(tmp_path)
    run, _ = make_run(config, images_per_real=2)
    expected = _expected(run)
    changed = {row_id: ManifestLine.from_json({**line.to_json(), "seed": 999}) for row_id, line in expected.items()}
    before = run.manifest.read_bytes()
    count = len(expected)
    with pytest.raises(RegenerationRefused, match=rf"discard {count} of {count} finished images .*changed seed.*--regenerate"):
        consolidate(run, changed, regenerate=False)
    assert run.manifest.read_bytes() == before  # nothing written before the refusal
    with caplog.at_level("WARNING"):
        assert consolidate(run, changed, regenerate=True) == {}
    assert f"discarding {count} of {count} finished images" in caplog.text


def test_missing_image_files_stop_but_a_small_share_is_remade_with_a_warning(tmp_path, caplog):
    config = tiny_run_config(tmp_path)
    run, _ = make_run(config, images_per_real=4)
    expected = _expected(run)
    assert DISCARD_SHARE * len(expected) >= 1
    (run.synthetic / expected[0].file_name).unlink()
    with caplog.at_level("WARNING"):
        assert len(consolidate(run, expected, regenerate=False)) == len(expected) - 1
    assert "missing or unreadable image file" in caplog.text
    for line in list(expected.values())[1:6]:
        (run.synthetic / line.file_name).unlink()
    with pytest.raises(RegenerationRefused, match="missing or unreadable image file"):
        consolidate(run, expected, regenerate=False)


# --- item 3: a run's config is what made it ------------------------------------------------------------------------


def _round_trips(config: DaldaConfig, tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(config_to_yaml(config))
    assert load_config(path, []) == config


def _every_entry() -> list[tuple[str, str]]:
    return [(choice.section, name) for choice in CHOICES for name in choice.registry]


def _perturbed(value: Any) -> list[Any]:
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        return [value + 1, 1]
    if isinstance(value, float):
        return [round(value / 2, 6), value + 0.5]
    if isinstance(value, str):
        return [value + " x {}" if "{}" in value else value + "x"]
    if value is None:
        return [1, 0.5, "x"]
    return []


def _nested(name: str, value: Any) -> dict[str, Any]:
    tree: Any = value
    for part in reversed(name.split(".")):
        tree = {part: tree}
    return tree


def _merged(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        merged[key] = _merged(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) else value
    return merged


def _round_trip_every_field(base: dict[str, Any], prefix: str, tmp_path: Path) -> int:
    """Set every leaf field below ``prefix`` to each value it accepts among a few others; each config round-trips."""
    tried = 0
    fields = flat_fields(build_config(base).model_dump(mode="json"))
    for name, value in fields.items():
        if not name.startswith(prefix):
            continue
        for other in _perturbed(value):
            try:
                config = build_config(_merged(base, _nested(name, other)))
            except (ConfigError, ValueError):
                continue
            _round_trips(config, tmp_path)
            tried += 1
    return tried


@pytest.mark.parametrize(("section", "entry"), _every_entry())
def test_config_yaml_round_trips_for_every_registry_entry_and_its_settings(section, entry, tmp_path):
    choice = next(choice for choice in CHOICES if choice.section == section)
    base = _nested(f"{section}.{choice.key}", entry)
    if section == "data":
        base["data"]["root"] = str(tmp_path)  # a folder dataset needs one
    config = build_config(base)
    _round_trips(config, tmp_path)
    _round_trip_every_field(base, section + ".", tmp_path)


def test_config_yaml_round_trips_every_field_set_to_another_value(tmp_path):
    """Every leaf field of the default config, set to each value it accepts among a few others, round-trips."""
    assert _round_trip_every_field({}, "", tmp_path) > 50


def test_a_quantile_threshold_run_reloads_its_own_config(tmp_path):
    config = tiny_run_config(tmp_path, guidance={"strategy": "ags", "alpha_quantile": 0.5})
    run_pipeline(config, ["data"])
    again = load_config(RunDir(config.out_dir).config, [])
    assert again.model_dump(mode="json")["guidance"] == config.model_dump(mode="json")["guidance"]
    assert again == recorded_config(config)


def _planned(tmp_path: Path) -> RunDir:
    """A run with its split and plan (base prompts, random λ: no scores or LLM needed)."""
    config = tiny_run_config(tmp_path, prompts={"source": "base"}, guidance={"strategy": "random"}, plan={"images_per_real": 1})
    run_pipeline(config, ["data", "plan"])
    return RunDir(config.out_dir)


def test_a_stage_command_may_not_change_what_an_earlier_stage_made(tmp_path):
    run = _planned(tmp_path)
    stored = run.config.read_text()
    changed = load_config(run.config, ["guidance.strategy=fixed"])
    with pytest.raises(StaleOutputsError, match=r"changes .*guidance.strategy.*plan stage.*--regenerate"):
        run_pipeline(changed, ["train"])
    assert run.config.read_text() == stored
    result = CliRunner().invoke(app, ["evaluate", "-o", str(run.root), "-s", "guidance.strategy=fixed"])
    assert result.exit_code == 1 and "--regenerate" in _said(result) and run.config.read_text() == stored
    result = CliRunner().invoke(app, ["data", "-o", str(run.root), "-s", "data.shots=3"])
    assert result.exit_code == 1 and "shots" in _said(result)
    # fields no output depends on (the device, downloading) are free to change; a later stage's own fields too
    free = load_config(run.config, ["models.device=auto", "data.download=true", "train.epochs=3"])
    assert stale_stages(free, run, ["train"]) == []
    assert [name for name, _ in stale_stages(changed, run, ["train"])] == ["plan"]


@pytest.mark.slow
def test_regenerate_remakes_the_earlier_stage_whose_field_changed(tmp_path):
    run = _planned(tmp_path)
    changed = load_config(run.config, ["plan.images_per_real=2", "regenerate=true", "generator.steps=2",
                                       "generator.resolution=32", "train.classifiers=[clip]"])  # fmt: skip
    run_pipeline(changed, ["generate"])  # plan is stale: remade first, then its images generated
    assert len(PlanRow.read_all(run)) == 2 * len(Split.read(run).train) == len(_images(run))
    assert yaml.safe_load(run.config.read_text())["regenerate"] is False


# --- item 4: one writer per run -----------------------------------------------------------------------------------


def _hold_lock(run: RunDir) -> subprocess.Popen:
    code = textwrap.dedent(
        f"""
        import sys, time
        from dalda.ownership import locked
        with locked({str(run.root)!r}, "test holder"):
            print("held", flush=True)
            time.sleep(60)
        """
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                              env={**__import__("os").environ, "PYTHONPATH": str(SRC)})  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def test_python_m_dalda_generation_and_export_refuse_a_run_in_use(tmp_path, capsys):
    run = _planned(tmp_path)
    holder = _hold_lock(run)
    try:
        assert generation_main([str(run.root)]) == 1
        assert "in use by pid" in capsys.readouterr().err
        result = CliRunner().invoke(app, ["export", str(run.root)])
        assert result.exit_code == 1 and "in use by pid" in _said(result)
        result = CliRunner().invoke(app, ["report", str(run.root)])
        assert result.exit_code == 1 and "in use" in _said(result)
    finally:
        holder.kill()
        holder.wait()
    assert not run.manifest.exists() and not (run.root / "export").exists()


def test_export_refuses_a_run_whose_generation_is_unfinished(tmp_path):
    run = _planned(tmp_path)
    result = CliRunner().invoke(app, ["export", str(run.root)])
    assert result.exit_code == 1 and "incomplete" in _said(result) and "dalda generate" in _said(result)
    assert not (run.root / "export").exists()


def test_python_m_dalda_generation_refuses_a_folder_without_the_marker(tmp_path, capsys):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "config.yaml").write_text(config_to_yaml(tiny_run_config(tmp_path)))
    assert generation_main([str(folder)]) == 1
    assert "not a dalda run directory" in capsys.readouterr().err
    assert sorted(p.name for p in folder.iterdir()) == ["config.yaml"]


# --- item 6: never adopt a user's folder ---------------------------------------------------------------------------


def test_a_users_config_and_split_do_not_make_a_run(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "config.yaml").write_text("out_dir: mine\n")
    (folder / "split.json").write_text("{}")
    result = CliRunner().invoke(app, ["data", "-o", str(folder), "-s", "models.profile=tiny"])
    assert result.exit_code == 1 and "not a dalda run directory" in _said(result)
    (folder / "split.json").unlink()
    result = CliRunner().invoke(app, ["run", "-o", str(folder), "-s", "models.profile=tiny"])
    assert result.exit_code == 1 and (folder / "config.yaml").read_text() == "out_dir: mine\n"
    assert sorted(p.name for p in folder.iterdir()) == ["config.yaml"]


# --- end to end: copy, move, partial copy, changed field, dry run --------------------------------------------------


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> tuple[DaldaConfig, Path]:
    tmp = tmp_path_factory.mktemp("finished")
    data = tmp / "data"  # the demo dataset is drawn here
    config = tiny_run_config(
        tmp,
        train={"classifiers": ["clip"], "real_only_reference": False},
        data={"shots": 1, "root": str(data)},
        plan={"images_per_real": 2},
        generator={"steps": 2, "resolution": 32},
    )
    (tmp / "config.yaml").write_text(config_to_yaml(config))
    result = CliRunner().invoke(app, ["run", "-c", str(tmp / "config.yaml"), "-o", str(config.out_dir)])
    assert result.exit_code == 0, result.output
    return config, tmp


def _copy(finished_run: tuple[DaldaConfig, Path], name: str) -> RunDir:
    config, tmp = finished_run
    target = tmp / name
    shutil.copytree(config.out_dir, target)
    return RunDir(target)


def _generated(run: RunDir) -> list[dict[str, Any]]:
    return [line for line in history(run.root) if line.get("event") == "stage" and line.get("stage") == "generate"]


@pytest.mark.slow
def test_a_copied_run_run_again_regenerates_nothing(finished_run):
    run = _copy(finished_run, "copy")
    images = _images(run)
    assert len(images) == 10
    dry = CliRunner().invoke(app, ["run", "--dry-run", "-o", str(run.root)])
    assert dry.exit_code == 0, dry.output
    generate = next(line.split() for line in dry.output.splitlines() if line.startswith("generate"))
    assert generate[1:4] == ["0", "10", "0"]  # make, reuse, discard
    result = CliRunner().invoke(app, ["run", "-o", str(run.root)])
    assert result.exit_code == 0, result.output
    assert _images(run) == images


@pytest.mark.slow
def test_a_moved_run_and_moved_data_regenerate_nothing(finished_run):
    config, tmp = finished_run
    run = _copy(finished_run, "moved-run")
    data = tmp / "elsewhere" / "data"
    shutil.copytree(config.data.root, data)
    images = _images(run)
    result = CliRunner().invoke(app, ["run", "-o", str(run.root), "-s", f"data.root={data}"])
    assert result.exit_code == 0, result.output
    assert _images(run) == images
    assert Split.read(run).root == str(data.resolve())


@pytest.mark.slow
def test_a_partial_copy_stops_instead_of_regenerating(finished_run):
    run = _copy(finished_run, "partial")
    for path in list(run.synthetic.rglob("*.png"))[:5]:
        path.unlink()
    result = CliRunner().invoke(app, ["run", "-o", str(run.root)])
    assert result.exit_code == 1 and "missing or unreadable image file" in _said(result)
    assert "--regenerate" in _said(result) and len(_images(run)) == 5


@pytest.mark.slow
def test_a_changed_field_that_invalidates_images_stops_without_regenerate(finished_run):
    run = _copy(finished_run, "changed")
    images = _images(run)
    stored = run.config.read_text()
    dry = CliRunner().invoke(app, ["run", "--dry-run", "-o", str(run.root), "-s", "seed=7"])
    generate = next(line.split() for line in dry.output.splitlines() if line.startswith("generate"))
    assert generate[1:4] == ["10", "0", "10"]
    assert _images(run) == images
    result = CliRunner().invoke(app, ["run", "-o", str(run.root), "-s", "seed=7"])
    assert result.exit_code == 1 and "changed" in _said(result) and "seed" in _said(result)
    assert "--regenerate" in _said(result)
    assert _images(run) == images and run.config.read_text() == stored
    again = CliRunner().invoke(app, ["run", "-o", str(run.root), "-s", "seed=7", "--regenerate"])
    assert again.exit_code == 0, again.output
    assert yaml.safe_load(run.config.read_text())["seed"] == 7
    assert yaml.safe_load(run.config.read_text())["regenerate"] is False
