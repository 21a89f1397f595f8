"""Issue 12, cases 10, 11 and 13 against a hostile OpenAI-compatible server on 127.0.0.1 (``server.py``).

A trickling server is cut off at about ``prompts.timeout_s``; HTTP 200 answers that are not JSON are a clear,
retried error; a key the server echoes inside its sentences reaches no file (prompts.json, plan.jsonl, the
record), and keys pasted where a variable name belongs or credentials inside ``base_url`` are never stored.
"""

import logging
import time

import pytest
from fake_openai_server import FakeOpenAIServer, answer_all
from server import binary_200, event_stream_200, html_200, key_echo, trickle

from dalda.chat import BackendError, OpenAISettings
from dalda.chat.openai import OpenAIChatBackend
from dalda.config import ConfigError, config_to_yaml
from dalda.configure import build_config
from dalda.io import write_jsonl_atomic
from dalda.prompts.stage import prompts_for_classes
from dalda.rundir import RunDir

KEY = "sk-hostile-0d9e8f7a6b5c4d3e2f1a"
ENV = "DALDA_HOSTILE_KEY"
CLASSES = ["cat", "dog"]


@pytest.fixture
def key(monkeypatch):
    monkeypatch.setenv(ENV, KEY)
    return KEY


def _config(tmp_path, url, **prompts):
    settings = {"backend": "openai", "base_url": url, "api_key_env": ENV, "num_prompts": 1, "max_retries": 1,
                "network_retries": 1, "timeout_s": 1.0, "backoff_base_s": 0.01, "backoff_max_s": 0.05, **prompts}
    return build_config({"out_dir": str(tmp_path / "run"), "data": {"dataset": "pets"}, "prompts": settings})


def _ask(config):
    backend = OpenAIChatBackend(
        OpenAISettings.of(config.prompts), KEY, temperature=config.prompts.temperature, top_p=config.prompts.top_p
    )
    return backend.complete([{"role": "user", "content": "hello"}])


def test_a_trickling_server_is_cut_off_at_about_the_timeout(tmp_path, key):
    with FakeOpenAIServer([trickle(0.3), trickle(0.3)], lifetime_s=30) as server:
        started = time.monotonic()
        with pytest.raises(BackendError, match=r"gave no answer after 2 tries \(last: no answer within 1 s\)"):
            _ask(_config(tmp_path, server.url))
        elapsed = time.monotonic() - started
    assert len(server.requests) == 2
    # two tries of ~1 s each plus a back-off, not the body's ~80 s per try (slack for a loaded CI machine)
    assert elapsed < 12.0, elapsed


@pytest.mark.parametrize(
    ("reply", "kind"),
    [(html_200, "an HTML page"), (event_stream_200, "an event stream"), (binary_200, "binary data")],
)
def test_http_200_without_json_is_a_clear_retried_error(tmp_path, key, caplog, reply, kind):
    caplog.set_level(logging.WARNING)
    with FakeOpenAIServer([reply(), reply()]) as server:
        with pytest.raises(BackendError) as caught:
            _ask(_config(tmp_path, server.url))
    message = str(caught.value)
    assert len(server.requests) == 2 and "after 2 tries" in message
    assert f"HTTP 200 with {kind}" in message and "not a chat completion" in message
    assert "prompts.base_url" in message and "AttributeError" not in message
    assert "retrying" in caplog.text


def test_a_non_json_200_then_a_good_answer_gives_prompts(tmp_path, key):
    run = RunDir(tmp_path / "run")
    with FakeOpenAIServer([html_200(), answer_all()]) as server:
        table = prompts_for_classes(_config(tmp_path, server.url), CLASSES, run)
    assert table == {"cat": ["A photo of a cat on a red sofa."], "dog": ["A photo of a dog on a red sofa."]}


def test_a_key_echoed_inside_sentences_reaches_no_file(tmp_path, key, caplog):
    caplog.set_level(logging.DEBUG)
    run = RunDir(tmp_path / "run")
    with FakeOpenAIServer([key_echo()]) as server:
        table = prompts_for_classes(_config(tmp_path, server.url), CLASSES, run)
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"  # the key did reach the server
    assert table["cat"] == ["A photo of a cat (served for [REDACTED])."]
    # Any later writer (plan rows, manifest lines) masks the key too, whatever it was handed.
    write_jsonl_atomic(run.plan, [{"prompt": f"best quality, {KEY}"}])
    files = [path for path in run.root.rglob("*") if path.is_file()]
    assert {run.prompts, run.prompts_record, run.plan} <= set(files)
    for path in files:
        assert KEY.encode() not in path.read_bytes(), path
    assert KEY not in caplog.text


def test_a_pasted_key_is_refused_without_echoing_it():
    attempts = [
        lambda: build_config(overrides=["prompts.backend=openai", f"prompts.api_key_env={KEY}"]),
        lambda: build_config({"prompts": {"backend": "openai", "api_key_env": KEY}}),
        # a file that chooses another backend still has the openai setting checked, not echoed in a note
        lambda: build_config({"prompts": {"backend": "template", "api_key_env": KEY}}),
    ]
    for attempt in attempts:
        with pytest.raises(ConfigError) as caught:
            attempt()
        assert "must be the NAME of an environment variable" in str(caught.value)
        assert KEY not in str(caught.value)


def test_credentials_in_base_url_are_never_stored_or_logged(tmp_path, key, caplog):
    with FakeOpenAIServer([answer_all()]) as server:
        url = server.url.replace("http://", "http://alice:s3cr3t-passw0rd@")
        config = _config(tmp_path, url)
        run = RunDir(tmp_path / "run")
        prompts_for_classes(config, CLASSES, run)
    assert config.prompts.base_url == server.url
    assert "s3cr3t-passw0rd" not in config_to_yaml(config)
    assert "credentials" in caplog.text and "s3cr3t-passw0rd" not in caplog.text
    for path in run.root.rglob("*"):
        if path.is_file():
            assert b"s3cr3t-passw0rd" not in path.read_bytes(), path
