"""Adding a chat backend: one spec registered in CHAT_BACKENDS, with a setting of its own beside
``prompts.backend``, and the real prompts stage uses it unchanged."""

import json
import logging

import pytest
from pydantic import Field

from dalda.chat import CHAT_BACKENDS, ChatBackendSpec, ChatMessage, ChatReply
from dalda.chat.request import read_request
from dalda.config import DaldaConfig
from dalda.configure import build_config
from dalda.data.stage import run_data_stage
from dalda.prompts import run_prompts_stage
from dalda.registry import UnknownEntryError
from dalda.rundir import RunDir
from dalda.settings import EntrySettings


class CannedBackend:
    """Answers every request with one canned sentence per asked class, numbered by request."""

    name = "canned"
    secrets: tuple[str, ...] = ()

    def __init__(self, style: str) -> None:
        self.style = style
        self.requests = 0

    def complete(self, messages: list[ChatMessage]) -> ChatReply:
        _, wanted = read_request(messages)
        self.requests += 1
        answer = {name: f"A {self.style} {name} drawn on paper, take {self.requests}." for name in wanted}
        return ChatReply(text=json.dumps(answer), usage={"total_tokens": 7}, details={"model": "canned-1"})


class CannedSettings(EntrySettings):
    style: str = Field("plain", description="The adjective every canned sentence uses.")


BUILT: list[CannedBackend] = []


def _fingerprint(config: DaldaConfig, settings: CannedSettings) -> dict:
    return {"model": "canned-1", "parameters": {"style": settings.style, "seed": config.seed}}


def _build(config: DaldaConfig, settings: CannedSettings) -> CannedBackend:
    backend = CannedBackend(settings.style)
    BUILT.append(backend)
    return backend


@pytest.fixture
def canned():
    spec = ChatBackendSpec("canned", is_llm=True, fingerprint=_fingerprint, build=_build, settings_model=CannedSettings)
    CHAT_BACKENDS.register("canned", spec)
    BUILT.clear()
    yield
    CHAT_BACKENDS.unregister("canned")


def _with_prompts(config: DaldaConfig, **values) -> DaldaConfig:
    # Built through dalda.configure, so the registered name passes the same check a user's config goes through.
    return build_config(config.model_dump(mode="json"), [f"prompts.{key}={value}" for key, value in values.items()])


def test_a_registered_backend_runs_in_the_real_prompts_stage(canned, tiny_config, caplog):
    config = _with_prompts(tiny_config, backend="canned")  # style: its default, plain
    run = RunDir(config.out_dir).ensure()
    classes = run_data_stage(config, run).classes
    table = run_prompts_stage(config, run)

    assert list(table) == classes and len(BUILT) == 1 and BUILT[0].requests == 4  # M = 4 rounds, no repairs
    assert table["circle"] == [f"A plain circle drawn on paper, take {r}." for r in range(1, 5)]
    assert json.loads(run.prompts.read_text()) == table
    record = json.loads(run.prompts_record.read_text())
    assert record["status"] == "complete"
    settings = record["settings"]
    assert settings["backend"] == "canned" and settings["model"] == "canned-1"
    assert settings["parameters"] == {"style": "plain", "seed": config.seed}
    assert settings["num_prompts"] == 4 and settings["classes"] == classes
    assert settings["description"].startswith("A small synthetic dataset")  # is_llm: the demo's description
    assert len(record["attempts"]) == 4 and record["usage"]["total_tokens"] == 28

    caplog.set_level(logging.INFO)
    assert run_prompts_stage(config, run) == table and len(BUILT) == 1  # cache key unchanged: reused
    assert "reusing" in caplog.text
    changed = run_prompts_stage(_with_prompts(config, style="fancy"), run)  # its settings are the key
    assert len(BUILT) == 2 and changed["circle"][0] == "A fancy circle drawn on paper, take 1."
    assert "settings changed" in caplog.text and "parameters" in caplog.text


def test_unknown_backend_names_the_setting_and_the_choices(canned):
    with pytest.raises(UnknownEntryError, match=r"prompts.backend='nope' .*\['canned', 'openai', 'template'"):
        CHAT_BACKENDS.get("nope")
    assert not CHAT_BACKENDS.get("template").is_llm and CHAT_BACKENDS.get("canned").is_llm
