"""Every artefact of a run directory, once: its files, the stage that makes it, the stages that read it, its record
types, and, for what cells of a grid share, its cache key.

Everything that lists artefacts reads this table: the pipeline's up-front check that a stage's inputs exist
(``dalda.pipeline``: each stage makes the artefacts whose ``made_by`` is its name and needs those that name it in
``needed_by``), and the grid's shared store (``dalda.experiments.shared_artefacts``: the artefacts with a
``shared`` key). Files are named by their :class:`~dalda.rundir.RunDir` attribute, so the layout stays in one
place; an attribute that is a method (``checkpoint_file``) names one file per ``train.classifiers`` entry.

An input a stage reads only for some configs (``plan`` reads the scores for AGS, the prompts for a generator that
uses LLM prompts) is needed exactly when the config calls for the stage that makes it (``dalda.pipeline``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dalda.artefacts.bookkeeping import HistoryLine, LockOwner, RunMarker, TrackerRuns
from dalda.artefacts.cell import CellInfo
from dalda.artefacts.checkpoint import Checkpoint
from dalda.artefacts.classes import ClassNames
from dalda.artefacts.diversity import DiversityReport
from dalda.artefacts.curation import CurationRecord
from dalda.artefacts.filter import FilterRecord
from dalda.artefacts.manifest import ManifestLine
from dalda.artefacts.method import MethodRecord
from dalda.artefacts.plan import PlanRow
from dalda.artefacts.prompts import PromptsRecord, PromptTable
from dalda.artefacts.provenance import ProvenanceRecord
from dalda.artefacts.result import ClassifierResult
from dalda.artefacts.scores import ScoreRecord
from dalda.artefacts.split import Split
from dalda.artefacts.training import TrainingRecord
from dalda.config import DaldaConfig
from dalda.hashing import fingerprint
from dalda.rundir import RunDir

EVERY_COMMAND = "every command"
"""``made_by`` of the run's own files (``dalda.ownership``), which no one stage makes."""
EXPERIMENT = "experiment"
"""``made_by`` of what only ``dalda experiment`` writes."""
CURATE = "curate"
"""``made_by`` of what only ``dalda curate`` writes: a person's decisions, no stage's."""


@dataclass(frozen=True)
class SharedKey:
    """How cells of a grid share an artefact: one copy per set of values of the config fields it depends on."""

    depends_on: tuple[str, ...]
    """Config sections (``seed``, ``data``, ...) or single fields (``section.field``) its content depends on."""
    per_trial: bool
    """True: one per (shots, trial); False: one per dataset (``data.shots`` and ``data.trial`` left out)."""
    ignores: tuple[str, ...] = ()
    """``section.field`` entries of those sections the content does not depend on (left out of the key)."""
    wanted: Callable[[DaldaConfig], bool] | None = None
    """When only some configs use the artefact: whether ``config`` does (None: every config that runs its stage)."""

    def digest(self, config: DaldaConfig) -> str:
        """12 hex digits of the canonical JSON of those config values."""
        values = config.model_dump(mode="json")
        picked: dict[str, Any] = {}
        for name in self.depends_on:
            section, _, field = name.partition(".")
            picked[name] = values[section][field] if field else values[section]
        if not self.per_trial:
            picked["data"] = {k: v for k, v in picked["data"].items() if k not in ("shots", "trial")}
        for name in self.ignores:
            section, _, field = name.partition(".")
            picked[section] = {k: v for k, v in picked[section].items() if k != field}
        return fingerprint(picked)[:12]

    def wanted_by(self, config: DaldaConfig) -> bool:
        return self.wanted is None or self.wanted(config)


def real_only_reference_wanted(config: DaldaConfig) -> bool:
    """Whether ``config``'s train stage trains a real-only reference (``train.real_only_reference``) beside a
    classifier that draws synthetic images; a run with no synthetic image then is its own reference."""
    return config.train.real_only_reference and config.train.synthetic_probability > 0


@dataclass(frozen=True)
class Artefact:
    name: str
    """How errors name it ("stage plan needs the scores ...")."""
    made_by: str
    """The stage that writes it (:data:`EVERY_COMMAND`, :data:`EXPERIMENT`: no stage)."""
    files: tuple[tuple[str, type | None], ...]
    """(``RunDir`` attribute, record type) per file; None for folders and binary files with no JSON record."""
    needed_by: tuple[str, ...] = ()
    """The stages that cannot start without it."""
    shared: SharedKey | None = None
    """Set for what a grid's cells share (``dalda.experiments.shared_artefacts``)."""
    config: tuple[str, ...] = ()
    """Config sections or dotted fields its content depends on (less :data:`NO_OUTPUT_FIELDS`): a stage command
    that changes one of them while the artefact exists, without running its stage, is refused
    (``dalda.pipeline.stale_stages``)."""

    def depends_on(self, name: str) -> bool:
        """Whether the dotted config field ``name`` is one its content depends on."""
        return name not in NO_OUTPUT_FIELDS and any(name == d or name.startswith(d + ".") for d in self.config)

    def wanted_by(self, config: DaldaConfig) -> bool:
        """Whether a cell with ``config`` uses this artefact when it runs the stage that makes it."""
        return self.shared is None or self.shared.wanted_by(config)

    @property
    def slug(self) -> str:
        """The name without spaces (the shared store's folder names)."""
        return self.name.replace(" ", "_")

    @property
    def records(self) -> tuple[type, ...]:
        return tuple(record for _, record in self.files if record is not None)

    def paths(self, run: RunDir, config: DaldaConfig) -> list[Path]:
        """Its files in ``run``: one per attribute, or one per ``train.classifiers`` entry for a method."""
        found: list[Path] = []
        for attribute, _ in self.files:
            value = getattr(run, attribute)
            found.extend([value(name) for name in config.train.classifiers] if callable(value) else [value])
        return found


NO_OUTPUT_FIELDS = frozenset(
    {
        "data.root",  # the same data elsewhere (``dalda.artefacts.check_split_matches`` rebases the split)
        "data.download",
        "models.device",
        "models.offline",
        "score.batch_size",
        "prompts.regenerate",
        "prompts.max_retries",
        "prompts.api_key_env",
        "prompts.api_key_required",
        "prompts.timeout_s",
        "prompts.network_retries",
        "prompts.backoff_base_s",
        "prompts.backoff_max_s",
        "train.encode_batch_size",
        "train.decode_workers",
        "train.pixel_memory_gb",
    }
)
"""Fields that decide how or where a stage works, never what it writes."""

_READ_SPLIT = ("score", "prompts", "plan", "filter", "train", "evaluate")

ARTEFACTS: tuple[Artefact, ...] = (
    Artefact("run marker", EVERY_COMMAND, (("marker", RunMarker),)),
    Artefact("lock", EVERY_COMMAND, (("lock", None), ("lock_owner", LockOwner))),
    Artefact("history", EVERY_COMMAND, (("history", HistoryLine),)),
    Artefact("provenance", EVERY_COMMAND, (("provenance", ProvenanceRecord),)),
    Artefact("config", EVERY_COMMAND, (("config", None),)),
    Artefact("tracker runs", EVERY_COMMAND, (("tracker_runs", TrackerRuns),)),
    Artefact("experiment cell", EXPERIMENT, (("cell", CellInfo),)),
    Artefact("demo images", "data", (("data_cache", None),)),
    Artefact(
        "split",
        "data",
        (("split", Split),),
        _READ_SPLIT,
        SharedKey(("data",), per_trial=True),
        config=("data.dataset", "data.shots", "data.trial", "data.eval_split", "data.max_eval_per_class"),
    ),
    Artefact(
        "scores",
        "score",
        (("scores", ScoreRecord),),
        ("plan",),
        SharedKey(("data", "models", "score"), per_trial=True),
        config=("score", "models.profile", "models.clip_model"),
    ),
    Artefact("score histogram", "score", (("score_histogram", None),)),
    Artefact(
        "prompts",
        "prompts",
        (("prompts", PromptTable), ("prompts_record", PromptsRecord)),
        ("plan",),
        SharedKey(("data", "models", "prompts", "seed"), per_trial=False),
        config=("prompts", "data.description", "data.description_file"),
    ),
    Artefact("plan", "plan", (("plan", PlanRow),), ("generate",), config=("seed", "guidance", "plan", "generator")),
    Artefact("planned method", "plan", (("planned_method", MethodRecord),)),
    Artefact(
        "generator preparation",
        "generate",
        (("textual_inversion", None),),
        shared=SharedKey(("data", "models", "seed", "generator"), per_trial=True),
    ),
    Artefact("synthetic images", "generate", (("manifest", ManifestLine),), ("filter",)),
    Artefact("class list", "generate", (("classes", ClassNames),)),
    Artefact("filter decisions", "filter", (("filter_decisions", FilterRecord),), config=("filter",)),
    Artefact("curation decisions", CURATE, (("curation", CurationRecord),)),
    Artefact("feature cache", "train", (("features", None),)),
    Artefact(
        "trained classifiers",
        "train",
        (("checkpoint_file", Checkpoint), ("train_record_file", TrainingRecord)),
        ("evaluate",),
        config=("train",),
    ),
    Artefact(
        "real-only references",
        "train",
        (("reference_checkpoint_file", Checkpoint), ("reference_train_record_file", TrainingRecord)),
        shared=SharedKey(
            ("data", "models", "seed", "train"), per_trial=True, ignores=("train.synthetic_probability",),
            wanted=real_only_reference_wanted,
        ),
    ),
    Artefact("results", "evaluate", (("result_file", ClassifierResult), ("diversity", DiversityReport))),
    Artefact("real-only results", "evaluate", (("reference_result_file", ClassifierResult),)),
    Artefact("report", "report", (("report", None),)),
)
"""Every artefact of a run directory, in pipeline order."""

ARTEFACTS_BY_NAME = {artefact.name: artefact for artefact in ARTEFACTS}
SHARED_ARTEFACTS = tuple(artefact for artefact in ARTEFACTS if artefact.shared is not None)
"""What cells of a grid share, in the order a cell takes them."""
