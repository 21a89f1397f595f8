"""The ``openai`` backend for real, against a scripted OpenAI-compatible server on 127.0.0.1.

Each test scripts the server's answers (valid JSON, fenced JSON, missing classes, another class named,
garbage, HTTP 500, 429, slow answers) and checks what the stage made of them: repairs that ask only for what
is missing, retries with the right waits, the cache, and an API key that reaches the server but no file or log.
"""

import json
import logging
import socket
import time

import pytest
from fake_openai_server import FakeOpenAIServer, Reply, answer_all, completion, error, json_answer, requested_classes

from dalda.chat import BackendError, OpenAISettings
from dalda.chat.openai import OpenAIChatBackend
from dalda.configure import build_config
from dalda.datasets import DATASETS
from dalda.prompts import PromptsIncompleteError, prompts_for_classes
from dalda.rundir import RunDir

KEY = "sk-dalda-test-7f3a9c1e5b2d4f6a8e0c"
ENV = "DALDA_TEST_OPENAI_KEY"
CLASSES = ["cat", "dog", "tiger cat"]


@pytest.fixture
def key(monkeypatch):
    monkeypatch.setenv(ENV, KEY)
    return KEY


def _config(tmp_path, url, **prompts):
    settings = {
        "backend": "openai",
        "base_url": url,
        "api_key_env": ENV,
        "num_prompts": 1,
        "max_retries": 3,
        "network_retries": 3,
        "timeout_s": 0.5,
        "backoff_base_s": 0.01,
        "backoff_max_s": 1.0,
        **prompts,
    }
    return build_config({"out_dir": str(tmp_path / "run"), "data": {"dataset": "pets"}, "prompts": settings})


def _assert_key_nowhere(root, *texts):
    """The key is in no file under ``root`` and in none of ``texts`` (captured logs and console output)."""
    files = [path for path in root.rglob("*") if path.is_file()]
    assert files
    for path in files:
        assert KEY.encode() not in path.read_bytes(), path
    for text in texts:
        assert KEY not in text


def _record(run):
    return json.loads(run.prompts_record.read_text())


def test_valid_and_fenced_json_answers_give_m_prompts_per_class(tmp_path, key, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    round_1 = {"cat": "A cat on a windowsill.", "dog": "A dog running on a beach.", "tiger cat": "A tiger cat asleep."}
    round_2 = {"cat": "A cat in the snow.", "dog": "A dog in a red coat.", "tiger cat": "A tiger cat on a fence."}
    run = RunDir(tmp_path / "run")
    with FakeOpenAIServer([json_answer(round_1), json_answer(round_2, fenced=True)]) as server:
        table = prompts_for_classes(_config(tmp_path, server.url, num_prompts=2), CLASSES, run)
    assert table == {name: [round_1[name], round_2[name]] for name in CLASSES}
    assert json.loads(run.prompts.read_text()) == table

    first = server.requests[0]
    assert first.headers["authorization"] == f"Bearer {KEY}"  # the key does reach the server
    assert first.body["model"] == "gpt-4-0613"
    assert (first.body["temperature"], first.body["top_p"]) == (1.0, 1.0)
    assert (first.body["frequency_penalty"], first.body["presence_penalty"]) == (0.0, 0.0)
    assert "response_format" not in first.body
    assert DATASETS.get("pets").description in first.user_message
    assert requested_classes(first.body) == CLASSES

    record = _record(run)
    assert record["status"] == "complete"
    assert record["settings"]["backend"] == "openai" and record["settings"]["model"] == "gpt-4-0613"
    assert record["settings"]["parameters"]["temperature"] == 1.0
    assert [a["response"] for a in record["attempts"]][1].startswith("Here you go:\n```json")
    assert record["usage"] == {"prompt_tokens": 200, "completion_tokens": 40, "total_tokens": 240}
    assert record["rounds"] == [round_1, round_2]
    _assert_key_nowhere(tmp_path / "run", caplog.text, *capsys.readouterr())


def test_missing_classes_and_other_class_mentions_are_repaired_by_asking_only_for_them(tmp_path, key):
    bad = {"cat": "A cat playing with a dog.", "tiger cat": "A tiger cat, striped, on a log."}
    script = [json_answer(bad), json_answer({"cat": "A cat on a rug.", "dog": "A dog swimming.", "extra": "x"})]
    run = RunDir(tmp_path / "run")
    with FakeOpenAIServer(script) as server:
        table = prompts_for_classes(_config(tmp_path, server.url), CLASSES, run)
    assert table == {"cat": ["A cat on a rug."], "dog": ["A dog swimming."], "tiger cat": [bad["tiger cat"]]}
    repair = server.requests[1]
    assert requested_classes(repair.body) == ["cat", "dog"]
    assert "\"cat\": the sentence mentions another class of the dataset: 'dog'" in repair.user_message
    assert '"dog": the answer has no sentence for it' in repair.user_message
    attempts = _record(run)["attempts"]
    assert [a["requested"] for a in attempts] == [CLASSES, ["cat", "dog"]]
    assert attempts[0]["accepted"] == ["tiger cat"] and set(attempts[0]["problems"]) == {"cat", "dog"}


def test_garbage_and_empty_answers_are_asked_again(tmp_path, key):
    no_content = completion("")
    no_content.body["choices"][0]["message"]["content"] = None
    script = [completion("I am sorry, JSON is not my thing today."), no_content, answer_all()]
    run = RunDir(tmp_path / "run")
    with FakeOpenAIServer(script) as server:
        table = prompts_for_classes(_config(tmp_path, server.url), CLASSES, run)
    assert table["dog"] == ["A photo of a dog on a red sofa."]
    assert len(server.requests) == 3 and requested_classes(server.requests[2].body) == CLASSES
    problems = _record(run)["attempts"][0]["problems"]
    assert problems["cat"].startswith("no usable answer (the answer holds no JSON object")


def test_http_500_429_and_slow_answers_are_retried_with_backoff(tmp_path, key, caplog):
    script = [
        error(500, "boom"),
        error(429, "slow down", headers={"retry-after-ms": "300"}),
        Reply(body=completion("{}").body, delay_s=3.0),  # longer than timeout_s=0.5
        answer_all(),
    ]
    run = RunDir(tmp_path / "run")
    with FakeOpenAIServer(script) as server:
        table = prompts_for_classes(_config(tmp_path, server.url), CLASSES, run)
    assert table["cat"] == ["A photo of a cat on a red sofa."]
    arrivals = [request.received_at for request in server.requests]
    assert len(arrivals) == 4
    assert arrivals[2] - arrivals[1] >= 0.3  # Retry-After honoured (backoff alone would wait ~0.01 s)
    assert arrivals[3] - arrivals[2] >= 0.5  # the slow answer was abandoned at the timeout
    assert _record(run)["attempts"][0]["details"]["network_retries"] == 3
    assert "HTTP 500 (server error)" in caplog.text and "HTTP 429 (rate limited)" in caplog.text
    assert "no answer within 0.5 s" in caplog.text


def test_backoff_waits_follow_retry_after_and_grow_exponentially(key):
    script = [
        error(429, "wait", headers={"Retry-After": "7"}),
        error(500, "a"),
        error(502, "b"),
        error(503, "c", headers={"Retry-After": "120"}),
        completion("ok"),
    ]
    waits = []
    with FakeOpenAIServer(script) as server:
        settings = OpenAISettings(base_url=server.url, network_retries=5, backoff_base_s=1.0, backoff_max_s=60.0)
        backend = OpenAIChatBackend(settings, KEY, temperature=1.0, top_p=1.0, sleep=waits.append)
        reply = backend.complete([{"role": "user", "content": "hi"}])
    assert reply.text == "ok" and reply.usage["total_tokens"] == 120
    assert waits[0] == 7.0
    assert 1.0 <= waits[1] <= 2.0 and 2.0 <= waits[2] <= 4.0  # base * 2**retry, jitter in [0.5, 1]
    assert waits[3] == 60.0  # Retry-After capped at backoff_max_s


def test_network_retries_running_out_names_the_missing_classes(tmp_path, key):
    run = RunDir(tmp_path / "run")
    with FakeOpenAIServer([error(500, "down")] * 3) as server:
        with pytest.raises(PromptsIncompleteError) as caught:
            prompts_for_classes(_config(tmp_path, server.url, network_retries=2), CLASSES, run)
    message = str(caught.value)
    assert "gave no answer after 3 tries (last: HTTP 500 (server error))" in message
    assert "'cat', 'dog', 'tiger cat'" in message and caught.value.missing == CLASSES
    record = _record(run)
    assert record["status"] == "incomplete" and "gave no answer" in record["attempts"][0]["error"]
    assert not run.prompts.exists()

    with socket.socket() as probe:  # a port with nobody listening: connection errors are retried too
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/v1"
    with pytest.raises(PromptsIncompleteError, match=r"after 2 tries \(last: could not connect\)"):
        prompts_for_classes(_config(tmp_path, closed, network_retries=1, regenerate=True), CLASSES, run)


def test_exhausted_repairs_keep_what_was_obtained_and_a_rerun_continues(tmp_path, key):
    classes = ["cat", "dog", "cow"]
    first_round = {"cat": "A cat on a roof.", "dog": "A dog in a park.", "cow": "A cow in a field."}
    script = [json_answer(first_round), json_answer({"cat": "A cat in a box."}), completion("???"), answer_all()]
    run = RunDir(tmp_path / "run")
    with FakeOpenAIServer(script) as server:
        config = _config(tmp_path, server.url, num_prompts=2, max_retries=1)
        with pytest.raises(PromptsIncompleteError) as caught:
            prompts_for_classes(config, classes, run)
        assert caught.value.missing == ["dog", "cow"] and caught.value.round_index == 1
        assert (
            "round 2/2: after 1 request and 1 repair(s) there is still no valid sentence for 2 class(es): "
            "'dog', 'cow'" in str(caught.value)
        )
        record = _record(run)
        assert record["status"] == "incomplete"
        assert record["rounds"] == [first_round, {"cat": "A cat in a box."}]
        assert [a["response"] for a in record["attempts"]][2] == "???"
        assert not run.prompts.exists()

        table = prompts_for_classes(config, classes, run)  # the same settings: continue, do not start over
    assert len(server.requests) == 4 and requested_classes(server.requests[3].body) == ["dog", "cow"]
    assert table == {
        "cat": ["A cat on a roof.", "A cat in a box."],
        "dog": ["A dog in a park.", "A photo of a dog on a red sofa."],
        "cow": ["A cow in a field.", "A photo of a cow on a red sofa."],
    }
    record = _record(run)
    assert record["status"] == "complete" and len(record["attempts"]) == 4


def test_cached_prompts_are_reused_without_key_or_server_until_settings_change(tmp_path, key, monkeypatch):
    run = RunDir(tmp_path / "run")
    with FakeOpenAIServer([answer_all()]) as server:
        url = server.url
        table = prompts_for_classes(_config(tmp_path, url), CLASSES, run)
    monkeypatch.delenv(ENV)
    assert prompts_for_classes(_config(tmp_path, url), CLASSES, run) == table  # server gone, key gone: cache
    with pytest.raises(BackendError, match=f"environment variable {ENV}"):
        prompts_for_classes(_config(tmp_path, url, temperature=0.7), CLASSES, run)  # changed: must ask again
    monkeypatch.setenv(ENV, KEY)
    with FakeOpenAIServer([answer_all("A {} under a tree.")]) as server:
        again = prompts_for_classes(_config(tmp_path, server.url, regenerate=True), CLASSES, run)
    assert again["cat"] == ["A cat under a tree."] and len(server.requests) == 1


def test_missing_key_is_a_clear_error_and_keyless_local_servers_work(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    with pytest.raises(BackendError, match=f"API key in the environment variable {ENV}.*api_key_required=false"):
        prompts_for_classes(_config(tmp_path, "http://127.0.0.1:9/v1"), CLASSES, RunDir(tmp_path / "run"))
    with FakeOpenAIServer([answer_all()]) as server:
        config = _config(tmp_path, server.url, api_key_required=False)
        table = prompts_for_classes(config, CLASSES, RunDir(tmp_path / "run"))
    assert table["cat"] and server.requests[0].headers["authorization"] == "Bearer no-key-needed"


def test_key_is_never_written_or_logged_even_when_the_server_echoes_it(tmp_path, key, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    run = RunDir(tmp_path / "run")
    with FakeOpenAIServer([completion(f"Your key {KEY} is nice. No JSON."), answer_all()]) as server:
        prompts_for_classes(_config(tmp_path, server.url), CLASSES, run)
    assert "[REDACTED]" in _record(run)["attempts"][0]["response"]
    with FakeOpenAIServer([error(401, f"Incorrect API key provided: {KEY}.")]) as server:
        with pytest.raises(PromptsIncompleteError) as caught:
            prompts_for_classes(_config(tmp_path, server.url, regenerate=True), CLASSES, run)
    assert f"rejected the API key (HTTP 401); check the key in the environment variable {ENV}" in str(caught.value)
    with FakeOpenAIServer([error(400, f"bad request from {KEY}")]) as server:
        with pytest.raises(PromptsIncompleteError) as caught_400:
            prompts_for_classes(_config(tmp_path, server.url, regenerate=True), CLASSES, run)
    assert "HTTP 400: bad request from [REDACTED]" in str(caught_400.value)
    _assert_key_nowhere(tmp_path / "run", caplog.text, *capsys.readouterr(), str(caught.value), str(caught_400.value))


def test_azure_openai_and_json_mode_go_through_the_same_backend(tmp_path, key):
    with FakeOpenAIServer([answer_all()]) as server:
        config = _config(
            tmp_path, server.root, api_type="azure", api_version="2024-06-01", model="my-gpt4", json_mode=True
        )
        table = prompts_for_classes(config, CLASSES, RunDir(tmp_path / "run"))
    request = server.requests[0]
    assert table["tiger cat"] == ["A photo of a tiger cat on a red sofa."]
    assert request.path == "/openai/deployments/my-gpt4/chat/completions?api-version=2024-06-01"
    assert request.headers["api-key"] == KEY
    assert request.body["response_format"] == {"type": "json_object"}


def test_fake_server_stops_itself_after_its_lifetime():
    with FakeOpenAIServer([], lifetime_s=0.1) as server:
        address = server._server.server_address[:2]
        time.sleep(0.3)
        with pytest.raises(OSError):
            socket.create_connection(address, timeout=0.5)
