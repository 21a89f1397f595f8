"""The cost model: the packaged FLOP counts match a fresh count, every generator gets GPU-hours (in the doctor
too), guidance doubles the UNet's work, and measured utilisation replaces the default."""

from __future__ import annotations

import time

import pytest

from dalda.configure import build_config
from dalda.costs import estimate
from dalda.costs.counting import unet_step_flops, vae_decode_flops
from dalda.costs.devices import DEFAULT_UTILISATION, PEAK_TFLOPS, throughput
from dalda.costs.estimate import fitted, flop_table
from dalda.doctor import check_llm, doctor
from dalda.generators import GENERATORS

STAGES = ("generate", "train")


def test_a_recount_matches_the_stored_counts_and_their_scaling():
    family = flop_table()["families"]["sd"]
    assert unet_step_flops("sd", 256) == family["unet_step"]["256"]
    # 320 px is not stored: the fitted a + bN + cN² must predict the fresh count
    assert fitted(family["unet_step"], 320) == pytest.approx(unet_step_flops("sd", 320), rel=1e-6)
    assert fitted(family["vae_decode"], 320) == pytest.approx(vae_decode_flops("sd", 320), rel=1e-6)


def test_guidance_doubles_the_unet_work():
    guided = estimate(build_config(overrides=["generator.name=ip-adapter"]), 10, STAGES)
    plain = estimate(build_config(overrides=["generator.name=ip-adapter", "generator.guidance_scale=1.0"]), 10, STAGES)
    unet = guided.images * 30 * fitted(flop_table()["families"]["sd"]["unet_step"], 512)
    assert guided.flops["generation"] - plain.flops["generation"] == pytest.approx(unet, rel=1e-9)
    assert guided.disk_bytes == plain.disk_bytes > 0


@pytest.mark.parametrize("name", GENERATORS.names())
def test_every_generator_gets_gpu_hours_in_the_doctor(tmp_path, name):
    config = build_config(overrides=[f"out_dir={tmp_path / 'run'}", "models.profile=tiny", "models.device=cpu",
                                     "data.dataset=demo", f"data.root={tmp_path / 'demo'}", "data.shots=2",
                                     f"generator.name={name}"])
    cost = next(check for check in doctor(config) if check.name == "estimated cost")
    assert cost.ok, cost.detail
    total, *parts = cost.detail.splitlines()
    hours = float(total.split()[1])
    assert hours > 0 and "GPU-hours" in total
    assert any(line.strip().startswith("generation: ") for line in parts), parts
    assert any(name in line for line in parts), parts


def test_measured_utilisation_replaces_the_default():
    measured = throughput("A100", rows=[{"device": "gpu", "gpu": "A100", "utilisation": 0.5}])
    assert measured.utilisation == 0.5 and "measured" in measured.source
    assumed = throughput("A100", rows=[])
    assert assumed.utilisation == DEFAULT_UTILISATION and assumed.flops_per_second == PEAK_TFLOPS["A100"] * 1e12 * 0.35
    with pytest.raises(ValueError, match="unknown GPU"):
        throughput("GTX 480")


def test_the_doctor_gives_up_on_a_dead_llm_endpoint_quickly(tmp_path, monkeypatch):
    monkeypatch.setenv("DALDA_COSTS_TEST_KEY", "sk-test")
    config = build_config(overrides=[f"out_dir={tmp_path / 'run'}", "models.profile=tiny", "models.device=cpu",
                                     "data.dataset=demo", f"data.root={tmp_path / 'demo'}", "data.shots=2",
                                     "prompts.backend=openai", "prompts.base_url=http://127.0.0.1:9/v1",
                                     "prompts.api_key_env=DALDA_COSTS_TEST_KEY", "prompts.network_retries=5"])
    start = time.monotonic()
    with pytest.raises(Exception):
        check_llm(config)  # doctor() turns this into a ✗ line
    assert time.monotonic() - start < 8  # the configured five retries would back off for 15 s or more


@pytest.mark.parametrize("name", list(GENERATORS))
def test_run_dry_run_prints_gpu_hours_for_every_generator_and_makes_nothing(tmp_path, name):
    from typer.testing import CliRunner

    from dalda.cli import app

    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["run", "-o", str(out), "--dry-run", "-s", f"generator.name={name}",
                                      "-s", "models.profile=tiny", "-s", "train.protocol=fast"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "GPU-hours on one" in result.output and "generation:" in result.output
    assert not out.exists()
