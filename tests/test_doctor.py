"""`dalda doctor`: one ✓/✗ line per check with the fix, exit 1 when any fails; the LLM endpoint is asked one
tiny request only when the prompts stage needs an LLM."""

from __future__ import annotations

from fake_openai_server import FakeOpenAIServer, completion, error
from typer.testing import CliRunner

from dalda.cli import app

ENV = "DALDA_DOCTOR_TEST_KEY"


def _doctor(tmp_path, *overrides):
    base = [f"out_dir={tmp_path / 'run'}", "models.profile=tiny", "models.device=cpu", "data.dataset=demo",
            f"data.root={tmp_path / 'demo'}", "data.shots=2", "plan.images_per_real=3"]
    args = ["doctor"]
    for item in base + list(overrides):
        args += ["-s", item]
    return CliRunner().invoke(app, args)


def test_a_good_tiny_config_passes_every_check_and_asks_the_llm_once(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, "sk-test")
    with FakeOpenAIServer([completion("ok")]) as server:
        result = _doctor(tmp_path, "prompts.backend=openai", f"prompts.base_url={server.url}",
                         f"prompts.api_key_env={ENV}", "prompts.num_prompts=4")
        assert len(server.requests) == 1
    lines = result.output.splitlines()
    assert result.exit_code == 0, result.output
    assert all(line.startswith(("✓ ", "  ")) for line in lines), lines  # indented: the cost estimate's details
    assert any(line.startswith("✓ estimated cost: about ") and "GPU-hours" in line for line in lines), lines
    assert any(line.startswith("✓ device: cpu, dtype float32") for line in lines)
    assert any("profile tiny: random models" in line for line in lines)
    assert any(line.startswith("✓ LLM (openai): answered one request") for line in lines)
    work = next(line for line in lines if line.startswith("✓ expected work"))
    classes = int(next(line for line in lines if line.startswith("✓ dataset")).split(": ")[2].split()[0])
    assert f"{classes * 2 * 3} synthetic images" in work and "4 LLM prompt rounds" in work


def test_failures_say_what_to_do_and_exit_1(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, "sk-test")
    with FakeOpenAIServer([error(401, "bad key")] * 5) as server:
        result = _doctor(tmp_path, "prompts.backend=openai", f"prompts.base_url={server.url}",
                         f"prompts.api_key_env={ENV}", "prompts.network_retries=0", "data.shots=100000")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert any(line.startswith("✗ LLM (openai): ") for line in lines), lines
    assert any(line.startswith("✗ dataset: ") and "lower data.shots" in line for line in lines), lines

    template = _doctor(tmp_path, "prompts.backend=template")  # no LLM needed: no LLM line
    assert not any("LLM (" in line for line in template.output.splitlines())
