"""Issue 21, item 7: bounded network time and no leaks. One total deadline per chat request (status line, headers
and body); a key-shaped value where a variable name belongs is refused without echo; argv and overrides in
``history.jsonl`` are redacted like everything else."""

from __future__ import annotations

import json
import sys
import time

import pytest
from fake_openai_server import FakeOpenAIServer
from server import trickle_headers
from test_hostile_llm import ENV, KEY, _ask, _config, key  # noqa: F401 (a fixture)
from typer.testing import CliRunner

from dalda import cli
from dalda.chat import BackendError
from dalda.config import ConfigError
from dalda.configure import build_config
from dalda.redact import MASK, looks_like_secret, redact_argv
from dalda.rundir import RunDir


def test_a_server_trickling_its_headers_is_cut_off_at_about_the_timeout(tmp_path, key):  # noqa: F811
    with FakeOpenAIServer([trickle_headers(0.5), trickle_headers(0.5)], lifetime_s=30) as server:
        started = time.monotonic()
        with pytest.raises(BackendError, match=r"gave no answer after 2 tries \(last: no answer within 1 s\)"):
            _ask(_config(tmp_path, server.url))
        elapsed = time.monotonic() - started
    assert len(server.requests) == 2
    assert elapsed < 15.0, elapsed  # two tries of ~1.5 s and a back-off, not ~60 s per try (slack for a loaded machine)


KEY_SHAPED = ["gsk_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4", "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYz12",
              "0123456789abcdef0123456789abcdef", "xai_" + "Q" * 8 + "1234567890", "AbCdEfGh1234IjKlMnOp5678"]
NAMES = ["OPENAI_API_KEY", "GROQ_API_KEY", "HF_TOKEN", "AZURE_OPENAI_API_KEY_2", "MY_LLM_KEY"]


@pytest.mark.parametrize("value", KEY_SHAPED)
def test_a_key_made_of_name_characters_is_refused_without_echo(value):
    for attempt in (lambda: build_config(overrides=["prompts.backend=openai", f"prompts.api_key_env={value}"]),
                    lambda: build_config({"prompts": {"backend": "openai", "api_key_env": value}})):
        with pytest.raises(ConfigError) as caught:
            attempt()
        assert "must be the NAME of an environment variable" in str(caught.value) and value not in str(caught.value)


@pytest.mark.parametrize("name", NAMES)
def test_variable_names_stay_accepted(name):
    assert not looks_like_secret(name)
    assert build_config(overrides=["prompts.backend=openai", f"prompts.api_key_env={name}"]).prompts.entry_values()[
        "api_key_env"] == name


def test_the_cli_refusal_echoes_nothing(tmp_path):
    value = KEY_SHAPED[0]
    result = CliRunner().invoke(cli.app, ["run", "-o", str(tmp_path / "run"), "-s", "prompts.backend=openai",
                                          "-s", f"prompts.api_key_env={value}"])
    assert result.exit_code == 1 and value not in result.stderr + result.stdout
    assert not (tmp_path / "run").exists()


def test_argv_and_overrides_in_history_are_redacted(tmp_path, monkeypatch):
    from dalda.pipeline import run_pipeline

    url = "http://alice:s3cr3t-passw0rd@127.0.0.1:9/v1"
    overrides = ["models.profile=tiny", f"prompts.base_url={url}", "prompts.backend=openai", f"note={KEY}"]
    monkeypatch.setattr(sys, "argv", ["dalda", "data", "-o", str(tmp_path / "run"), *overrides])
    config = build_config({"out_dir": str(tmp_path / "run")}, overrides[:3])
    run_pipeline(config, ["data"], overrides)
    text = RunDir(tmp_path / "run").history.read_text()
    assert "s3cr3t-passw0rd" not in text and KEY not in text
    command = next(line for line in map(json.loads, text.splitlines()) if line.get("event") == "command")
    assert f"http://{MASK}@127.0.0.1:9/v1" in " ".join(command["argv"])
    assert command["overrides"][-1] == f"note={MASK}"


def test_redact_argv_keeps_what_is_no_secret():
    argv = ["run", "-o", "runs/2024-06-01", "-s", "prompts.model=meta-llama/Llama-3.1-8B-Instruct",
            "-s", "train.probes.clip.lr=2e-4", "-s", "prompts.api_key_env=OPENAI_API_KEY"]
    assert redact_argv(argv) == argv


@pytest.mark.parametrize("size_kb", [60, 600])
def test_an_oversized_response_body_is_refused_before_it_is_read(tmp_path, key, size_kb):  # noqa: F811
    from fake_openai_server import completion

    huge = completion('{"cat": "' + "A cat. " * (size_kb * 1000 // 7) + '"}')
    with FakeOpenAIServer([huge, huge]) as server:
        with pytest.raises(BackendError, match=r"sent more than 0\.05 MB for one answer; .*prompts\.max_response_mb"):
            _ask(_config(tmp_path, server.url, max_response_mb=0.05))
    assert len(server.requests) == 1  # refused, not retried
