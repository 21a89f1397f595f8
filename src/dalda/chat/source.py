"""Who wrote a run's prompts, as a method label needs to know it (``dalda.methods.method_of``).

The label of a run says where its prompts came from: an LLM (``llm-ags``), the offline ``template`` backend
(``template-ags``), a hand-written file (``file-ags``) or the Base Prompt. Whether a backend is an LLM is known
here (``ChatBackendSpec.is_llm``); ``dalda.methods`` sits above this package and asks, this package never asks it.
"""

from __future__ import annotations

from dalda.artefacts.prompts import PromptsRecord
from dalda.chat.protocol import ChatBackendSpec
from dalda.config import DaldaConfig
from dalda.registry import Registry
from dalda.rundir import RunDir


def prompt_source(config: DaldaConfig, backends: Registry[ChatBackendSpec], run: RunDir | None = None) -> str:
    """"llm" when an LLM wrote the prompts; else "template" (or another non-LLM backend's name), "file" or
    "base". The run's ``prompts_record.json`` says what really made ``prompts.json`` and wins over the config
    (a later command's overrides cannot relabel prompts it did not make); a backend that is not installed here
    counts as an LLM."""
    recorded = _recorded(run) if run is not None else None
    if recorded is None:
        cfg = config.prompts
        recorded = "file" if cfg.prompts_file is not None else ("base" if cfg.source == "base" else cfg.backend)
    if recorded in ("base", "file"):
        return recorded
    if recorded in backends and not backends.get(recorded).is_llm:
        return recorded
    return "llm"


def _recorded(run: RunDir) -> str | None:
    if not run.prompts_record.is_file():
        return None
    try:
        return PromptsRecord.read(run).prompt_source
    except (OSError, ValueError):
        return None
