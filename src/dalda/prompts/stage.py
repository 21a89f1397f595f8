"""The prompts stage: ``{class: [prompts]}`` for the generation plan, cached in the run directory.

Sources, in order of precedence:

1. ``prompts.prompts_file``: a hand-written JSON ``{class: [prompts]}``, validated and used as is;
2. ``prompts.source=base``: the paper's Base Prompt, one per class (``base_template``, "a photo of a {}");
3. ``prompts.source=llm``: M prompts per class from the chat backend ``prompts.backend`` (an entry of
   :data:`dalda.chat.CHAT_BACKENDS`: the offline template, an OpenAI-compatible API, a local model, ...).

Writes ``run.prompts`` (the table) and ``run.prompts_record`` (settings, raw answers, token usage, never the
API key). A later run reuses ``run.prompts`` when its record is complete and was made with the same classes,
M and backend settings, unless ``prompts.regenerate`` is set (``--regenerate``, never stored); an incomplete
LLM run is continued. A new LLM run beside a complete record writes ``run.prompts_record_pending`` and replaces
the complete record only once it completes, so a failed attempt never loses a finished one. The
"best quality, high quality, " prefix is not applied here: the plan stage adds it.

The chat backend is asked with the dataset's LLM-facing class names (``DatasetSpec.llm_names``, recorded in the
settings when a class has one); ``prompts.validation`` (repair | warn | off) decides what happens to a sentence
the validator flags, in an answer, a hand-written file or a cached table (``dalda.prompts.validation``).
"""

from __future__ import annotations

import hashlib
import logging
import os
from typing import Any


from dalda.artefacts import PromptsRecord, PromptTable
from dalda.artefacts.prompts import plain
from dalda.artefacts.split import read_split_for
from dalda.chat import CHAT_BACKENDS, ChatBackendSpec, backend_settings
from dalda.config import DaldaConfig, base_prompts
from dalda.io import read_json
from dalda.progress import progress_bar
from dalda.redact import redact
from dalda.prompts.collect import collect_prompts
from dalda.prompts.descriptions import require_description, resolve_description, resolve_llm_names
from dalda.prompts.record import PromptsError
from dalda.prompts.validation import Flag, ValidationMode, validate_prompt_table
from dalda.rundir import RunDir
from dalda.protocol import protocol_choices

log = logging.getLogger(__name__)


def stage_settings(config: DaldaConfig, classes: list[str]) -> dict[str, Any]:
    """Everything the prompts depend on; a cached table is reused only when this is unchanged."""
    cfg = config.prompts
    if cfg.source == "base":
        return {"source": "base", "base_template": cfg.base_template, "classes": classes}
    spec = CHAT_BACKENDS.get(cfg.backend)
    key = spec.fingerprint(config, backend_settings(config))
    settings: dict[str, Any] = {"source": "llm", "backend": cfg.backend, **key}
    settings["num_prompts"] = cfg.num_prompts
    settings["classes"] = classes
    if spec.is_llm:
        settings["description"] = resolve_description(config.data)
    asked = {name: llm for name, llm in resolve_llm_names(config.data).items() if name in classes}
    if asked:  # only then, so the settings (and caches) of every other dataset are unchanged
        settings["llm_names"] = asked
    return settings


def run_prompts_stage(config: DaldaConfig, run: RunDir) -> dict[str, list[str]]:
    """``dalda prompts``: the prompts of the classes of the run's split (``split.json``, by ``dalda data``)."""
    return prompts_for_classes(config, read_split_for(config.data, run).classes, run)


def prompts_for_classes(config: DaldaConfig, classes: list[str], run: RunDir) -> dict[str, list[str]]:
    """``{class: [prompts]}`` in class order; see the module docstring for sources, files and caching."""
    _check_classes(classes)
    cfg = config.prompts
    if cfg.prompts_file is not None:
        return _from_file(config, classes, run)
    settings = stage_settings(config, classes)
    if not cfg.regenerate:
        cached = _cached(run, settings, classes, cfg.validation)
        if cached is not None:
            log.info("prompts: reusing %s (same classes and settings; --regenerate asks again)", run.prompts)
            return cached
    if cfg.source == "base":
        record = PromptsRecord.new(run.prompts_record, settings, validation=cfg.validation)
        underscores = protocol_choices(config.train.protocol).base_prompt_underscores
        return _save(run, base_prompts(classes, cfg.base_template, underscores), record)
    return _from_chat(config, classes, run, settings)


def _check_classes(classes: list[str]) -> None:
    if not classes:
        raise PromptsError("the prompts stage got no classes; the dataset index has no class names")
    duplicates = sorted({name for name in classes if classes.count(name) > 1})
    if duplicates:
        raise PromptsError(f"class names must be unique; repeated: {duplicates}")


def _description(config: DaldaConfig, spec: ChatBackendSpec) -> str:
    """The dataset description an LLM needs (a clear error when there is none); a stand-in gets none."""
    return require_description(config.data, spec.name) if spec.is_llm else ""


def _from_chat(config: DaldaConfig, classes: list[str], run: RunDir, settings: dict[str, Any]) -> dict[str, list[str]]:
    cfg = config.prompts
    spec = CHAT_BACKENDS.get(cfg.backend)
    description = _description(config, spec)
    backend = spec.build(config, backend_settings(config))
    # A complete record stays in place until the new run completes: the new one is kept beside it meanwhile.
    stored = PromptsRecord.read_optional(run)
    working = run.prompts_record_pending if stored and stored.status == "complete" else run.prompts_record
    if cfg.regenerate and not run.prompts_record_pending.exists():
        record = PromptsRecord.new(working, settings, backend.secrets, cfg.validation)
    else:
        record = PromptsRecord.resume_or_new(working, settings, backend.secrets, cfg.validation)
    done = sum(1 for got in record.rounds[: cfg.num_prompts] if all(name in got for name in classes))
    if done:
        log.info("prompts: continuing an interrupted run, %d of %d rounds already complete", done, cfg.num_prompts)
    label = " ".join(str(part) for part in (cfg.backend, settings["model"]) if part)
    with progress_bar(f"prompts ({label})", cfg.num_prompts, unit="round", done=done) as advance:
        table = collect_prompts(
            backend,
            classes,
            description,
            cfg.num_prompts,
            cfg.max_retries,
            record,
            on_round_done=lambda: advance(1),
            llm_names=settings.get("llm_names"),
            validation=cfg.validation,
        )
    return _save(run, table, record)


def _save(run: RunDir, table: dict[str, list[str]], record: PromptsRecord) -> dict[str, list[str]]:
    """Write the table, then mark the record complete (the order that makes a complete record imply a table)."""
    table = redact(table, record.secrets)  # a server may echo the key inside its sentences
    PromptTable(table).write(run)
    record.finish()
    if record.path != run.prompts_record:
        os.replace(record.path, run.prompts_record)
    return table


def _cached(
    run: RunDir, settings: dict[str, Any], classes: list[str], mode: ValidationMode
) -> dict[str, list[str]] | None:
    """The stored table when its record is complete and has ``settings`` and its sentences pass validation in
    ``mode``; None (with the reason logged) otherwise."""
    if not run.prompts.exists():
        return None
    record = PromptsRecord.read_optional(run)
    if record is None or record.status != "complete":
        log.info("prompts: %s has no complete record beside it; generating again", run.prompts)
        return None
    if record.settings != plain(settings):
        changed = sorted(
            key for key in set(settings) | set(record.settings)
            if plain(settings).get(key) != record.settings.get(key)
        )
        log.info("prompts: settings changed since %s was made (%s); generating again", run.prompts, ", ".join(changed))
        return None
    try:
        table = validate_prompt_table(
            PromptTable.read(run).prompts, classes, str(run.prompts), mode, llm_names=settings.get("llm_names")
        )
    except (PromptsError, ValueError) as error:
        log.warning("prompts: cached %s is not usable (%s); generating again", run.prompts, error)
        return None
    expected = 1 if settings["source"] == "base" else settings["num_prompts"]
    if any(len(prompts) != expected for prompts in table.values()):
        log.warning("prompts: cached %s does not hold %d prompts per class; generating again", run.prompts, expected)
        return None
    return table


def _from_file(config: DaldaConfig, classes: list[str], run: RunDir) -> dict[str, list[str]]:
    """A hand-written table: validated, copied into the run directory, recorded with its hash."""
    path = config.prompts.prompts_file
    assert path is not None
    if not path.is_file():
        raise PromptsError(f"prompts.prompts_file={path} does not exist; point it to a JSON file {{class: [prompts]}}")
    raw = path.read_bytes()
    try:
        loaded = read_json(path)
    except ValueError as error:
        raise PromptsError(f"prompts.prompts_file={path} is not valid JSON: {error}") from None
    flags: list[Flag] = []
    mode = config.prompts.validation
    table = validate_prompt_table(loaded, classes, f"prompts.prompts_file={path}", mode, flags)
    settings = {"source": "file", "path": str(path), "sha256": hashlib.sha256(raw).hexdigest(), "classes": classes}
    record = PromptsRecord.new(run.prompts_record, settings, validation=mode)
    record.flagged = [flag.to_json() for flag in flags]
    if flags:
        log.warning("prompts: %d prompt(s) of %s flagged by the validator and kept (prompts.validation=warn); "
                    "they are listed in %s", len(flags), path, run.prompts_record)  # fmt: skip
    return _save(run, table, record)
