"""The run record (``provenance.json``): written by every stage as it finishes, with what the stage really ran
with, and shown in the report."""

from __future__ import annotations

import sys
from importlib import metadata

from dalda.artefacts import ProvenanceRecord
from dalda.artefacts.provenance import RANDOM_BUILT_IN_CODE
from dalda.configure import build_config
from dalda.pipeline import run_stage
from dalda.provenance import loaded_models, redact_argument, resolved_source
from dalda.redact import MASK, remember_secret
from dalda.report.run_record import run_record_html
from dalda.rundir import RunDir
from tests.test_training_support import tiny_run_config

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def test_hub_ids_resolve_to_the_commit_the_cache_holds(tmp_path):
    refs = tmp_path / "hub" / "models--org--model" / "refs"
    refs.mkdir(parents=True)
    (refs / "main").write_text(COMMIT + "\n")
    assert resolved_source("org/model", None, tmp_path / "hub") == COMMIT
    assert resolved_source("org/model", "v2", tmp_path / "hub") == "unresolved (v2: not in the Hugging Face cache)"
    assert resolved_source("org/other", "f" * 40, tmp_path / "hub") == "f" * 40  # pinned to a commit
    assert resolved_source(str(tmp_path), None, tmp_path / "hub") == "local folder"

    real = build_config({"models": {"profile": "real", "clip_model": "org/model"}})
    by_role = {model.role: model for model in loaded_models(real, tmp_path / "hub")}
    assert by_role["models.clip_model"].source == COMMIT
    assert by_role["generator.sd_model"].source.startswith("unresolved (main")  # not in this cache
    tiny = build_config({"models": {"profile": "tiny"}})
    assert {model.source for model in loaded_models(tiny, tmp_path / "hub")} == {RANDOM_BUILT_IN_CODE}


def test_every_stage_records_what_it_ran_with_and_the_report_shows_it(tmp_path, monkeypatch):
    config = tiny_run_config(tmp_path)
    secret = "sk-provenance-test-0123456789"
    remember_secret(secret)
    argv = ["dalda", "data", "-s", f"prompts.base_url=https://me:{secret}@example.org/v1"]
    monkeypatch.setattr(sys, "argv", argv)
    run_stage("data", config)
    record = ProvenanceRecord.read(RunDir(config.out_dir))
    stage = record.stages["data"]
    assert stage.profile == "tiny" and {model.source for model in stage.models} == {RANDOM_BUILT_IN_CODE}
    assert stage.versions["torch"] == metadata.version("torch")
    assert stage.versions["dalda"] == metadata.version("dalda")
    assert stage.versions["python"] == ".".join(map(str, sys.version_info[:3]))
    assert stage.host and stage.gpus == []  # the test machine has none
    assert secret not in " ".join(stage.argv) and stage.argv[-1] == f"prompts.base_url=https://{MASK}@example.org/v1"
    assert ProvenanceRecord.from_json(record.to_json()) == record  # reads back what it wrote

    run_stage("data", config)  # a stage run again replaces its own record, never another stage's
    assert list(ProvenanceRecord.read(RunDir(config.out_dir)).stages) == ["data"]

    page = run_record_html([config.out_dir])
    assert "Run record" in page and "data" in page and RANDOM_BUILT_IN_CODE in page
    assert f"torch {metadata.version('torch')}" in page
    assert run_record_html([tmp_path / "never-ran"]) == ""


def test_url_credentials_are_masked_in_any_argument():
    assert redact_argument("--url=http://user:pw@host/x") == f"--url=http://{MASK}@host/x"
    assert redact_argument("plain") == "plain"
