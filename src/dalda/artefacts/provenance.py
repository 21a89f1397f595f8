"""``provenance.json``: what each stage of a run actually ran with, written by the stage as it finishes.

One :class:`StageProvenance` per stage name, the latest run of that stage winning, since a run's stages may run
on different machines (generate on a GPU node, report on a laptop) and a report must say which. A stage's record
holds the models it loaded (:class:`LoadedModel`: Hub id and the commit it resolved to, or "random, built in
code" for the ``tiny`` and ``full-random`` profiles, which load nothing), the versions of dalda and its main
libraries at that moment, CUDA, cuDNN, the GPUs, the host, the git commit of a checkout and the command line,
with secrets masked (``dalda.provenance`` collects these).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dalda.artefacts._fields import from_mapping, to_mapping
from dalda.artefacts.record import JsonRecord
from dalda.rundir import RunDir

RANDOM_BUILT_IN_CODE = "random, built in code"


@dataclass(frozen=True)
class LoadedModel:
    """One model a stage may load: its role in the run, its Hub id or folder, and where its weights came from."""

    role: str
    """The setting naming it (``generator.sd_model``, ``models.clip_model``, ...)."""
    ident: str
    """The Hub id or local folder the setting names."""
    source: str
    """The resolved commit hash, ``local folder``, :data:`RANDOM_BUILT_IN_CODE`, or why it is unknown."""


@dataclass(frozen=True)
class StageProvenance:
    """One stage's run: when, where, with what software and models, from which command line."""

    stage: str
    finished: str
    """UTC time the stage finished."""
    profile: str
    models: list[LoadedModel]
    versions: dict[str, str | None]
    """Package -> installed version (None: not installed): dalda, python, torch, diffusers, transformers, ..."""
    cuda: str | None
    cudnn: str | None
    gpus: list[str]
    host: str
    git_commit: str | None
    """The commit of the checkout dalda ran from (``-dirty`` with uncommitted changes); None outside one."""
    argv: list[str]
    """The command line, with secrets masked."""
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, payload: Any, where: object = "a JSON record") -> StageProvenance:
        record = from_mapping(cls, payload, where)
        models = [from_mapping(LoadedModel, model, where) for model in payload.get("models", [])]
        return StageProvenance(**{**record.__dict__, "models": models})

    def to_json(self) -> dict[str, Any]:
        return {**to_mapping(self), "models": [to_mapping(model) for model in self.models]}


@dataclass(frozen=True)
class ProvenanceRecord(JsonRecord):
    """Every stage's :class:`StageProvenance`, by stage name, in the order the stages first finished."""

    WHAT = "provenance record"
    MADE_BY = "run"

    stages: dict[str, StageProvenance]

    @classmethod
    def file(cls, run: RunDir) -> Path:
        return run.provenance

    @classmethod
    def from_json(cls, payload: Any, where: object = "a JSON record") -> ProvenanceRecord:
        stages = payload.get("stages") if isinstance(payload, dict) else None
        if not isinstance(stages, dict):
            raise ValueError(f"{where}: expected an object with 'stages'; run any dalda stage again to rewrite it")
        return ProvenanceRecord({name: StageProvenance.from_json(value, where) for name, value in stages.items()})

    def to_json(self) -> dict[str, Any]:
        return {"stages": {name: stage.to_json() for name, stage in self.stages.items()}}

    def with_stage(self, stage: StageProvenance) -> ProvenanceRecord:
        return ProvenanceRecord({**self.stages, stage.stage: stage})
