"""Config: paper defaults, overrides, validation that names the field, and the CLI's handling of bad input."""

import subprocess
import sys

import pytest
import yaml

from dalda.config import ConfigError, config_to_yaml
from dalda.configure import build_config, load_config
from dalda.methods import method_of
from dalda.scorers import SCORERS


def test_defaults_are_the_papers_values():
    config = build_config()
    # α is AGS's setting; unset, it is the scorer's own default (0.3 for CLIP's softmax), resolved when used
    assert config.guidance.alpha is None and SCORERS.get(config.score.variant).default_alpha == 0.3
    assert (config.guidance.min_low, config.guidance.max_low) == (0.7, 0.9)
    assert (config.guidance.min_high, config.guidance.max_high) == (0.1, 0.4)
    assert config.train.synthetic_probability == 0.5 and config.prompts.num_prompts == 10
    assert (config.prompts.temperature, config.prompts.top_p) == (1.0, 1.0)
    assert config.generator.sd_model == "CompVis/stable-diffusion-v1-4" and config.models.profile == "real"
    assert (config.generator.guidance_scale, config.generator.resolution, config.generator.steps) == (7.5, 512, 30)
    assert (config.train.epochs, config.train.batch_size, config.train.image_size) == (50, 32, 224)
    assert (config.train.probes["resnet50"]["lr"], config.train.probes["clip"]["lr"]) == (1e-4, 2e-4)
    assert method_of(config).name == "llm-ags"


@pytest.mark.parametrize(
    ("override", "names"),
    [
        ("guidance.alpha=1.5", "guidance.alpha"),
        ("guidance.min_high=0.5", "guidance.min_high"),
        ("data.shots=0", "data.shots"),
        ("data.dataset=mnist", "data.dataset"),
        ("train.synthetic_probability=-0.1", "train.synthetic_probability"),
        ("generator.steps=0", "generator.steps"),
        ("guidance.unknown=1", "guidance.unknown"),
        ("shots", "section.field=value"),
    ],
)
def test_invalid_values_fail_naming_the_field(override, names):
    with pytest.raises(ConfigError, match=names.replace(".", r"\.")):
        build_config(overrides=[override])


def test_yaml_file_plus_overrides_and_round_trip(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("data:\n  dataset: demo\n  shots: 4\nguidance:\n  strategy: fixed\n")
    config = load_config(path, ["guidance.fixed_scale=0.3", "prompts.source=base"])
    assert config.data.shots == 4 and method_of(config).name == "base-fixed-0.3"
    assert load_config(_write(tmp_path / "again.yaml", config_to_yaml(config))) == config
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(_write(tmp_path / "list.yaml", "- 1\n- 2\n"))


def _write(path, text):
    path.write_text(text)
    return path


def test_cli_rejects_bad_values_before_any_work_and_records_good_config(tmp_path):
    out = tmp_path / "run"
    bad = subprocess.run(
        [sys.executable, "-m", "dalda.cli", "data", "-o", str(out), "-s", "guidance.max_low=0.5"],
        capture_output=True, text=True,
    )
    assert bad.returncode == 1 and "guidance.min_low" in bad.stderr and "Traceback" not in bad.stderr
    assert not out.exists()
    good = subprocess.run(
        [sys.executable, "-m", "dalda.cli", "data", "-o", str(out), "-s", "data.shots=3",
         "-s", f"data.root={tmp_path / 'demo'}"],
        capture_output=True, text=True,
    )
    assert good.returncode == 0, good.stderr
    recorded = yaml.safe_load((out / "config.yaml").read_text())
    assert recorded["data"]["shots"] == 3 and recorded["out_dir"] == str(out)
    assert (out / "split.json").is_file()


def test_a_reused_split_must_match_the_config(tiny_config):
    from dalda.data.stage import run_data_stage
    from dalda.pipeline import prepare_run

    run = prepare_run(tiny_config)
    first = run_data_stage(tiny_config, run)
    assert run_data_stage(tiny_config, run) == first
    for section, field, value in (("data", "shots", 3), ("data", "max_eval_per_class", 2), ("data", "trial", 1)):
        changed = tiny_config.model_copy(
            update={section: getattr(tiny_config, section).model_copy(update={field: value})}
        )
        with pytest.raises(ValueError, match=f"{field}="):
            run_data_stage(changed, run)


def test_the_default_protocol_is_the_papers_and_the_demo_opts_into_fast():
    """A user who changes nothing gets the authors' protocol (README, dalda.config); the demo config says fast."""
    from pathlib import Path

    from typer.testing import CliRunner

    from dalda.cli import app

    shown = CliRunner().invoke(app, ["show-config"])
    assert shown.exit_code == 0, shown.output
    train = yaml.safe_load(shown.output[shown.output.index("out_dir"):])["train"]
    assert train["protocol"] == "authors" and "  protocol: authors\n" in shown.output
    demo = Path(__file__).parent.parent / "configs" / "demo.yaml"
    assert load_config(demo).train.protocol == "fast" and build_config().train.protocol == "authors"
