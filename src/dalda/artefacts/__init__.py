"""The typed run directory: one record type per file dalda writes there, each with ``read`` and ``write``.

Every JSON and JSONL file stands on one base (:mod:`dalda.artefacts.record`): ``read``/``write`` (or
``read_all``/``write_all``/``append``, one record per line) take the run directory or a file path, write
atomically through :mod:`dalda.io`, keep keys this version does not know, and a missing file raises
:class:`MissingArtefactError` naming the file and the command that makes it. Every type reads and writes the
bytes the stages always wrote, so runs made before still load. Paths come from :class:`dalda.rundir.RunDir`;
which stage makes each file, which stages need it and how a grid shares it is the table in
:mod:`dalda.artefacts.table` (:data:`ARTEFACTS`).

======================  ==========================================  ==========================
type                    file                                        written by
======================  ==========================================  ==========================
``RunMarker``           ``.dalda-run.json``                         every command (claim)
``LockOwner``           ``.dalda-run.owner.json``                   every command (lock)
``HistoryLine``         ``history.jsonl`` (one per line, appended)  every command
``ProvenanceRecord``    ``provenance.json``                         every stage, as it finishes
``Split``               ``split.json``                              ``dalda data``
``ScoreRecord``         ``scores.jsonl`` (one per line)             ``dalda score``
``PromptTable``         ``prompts.json``                            ``dalda prompts``
``PromptsRecord``       ``prompts_record.json`` (+ ``.pending``)    ``dalda prompts``
``PlanRow``             ``plan.jsonl`` (one per line)               ``dalda plan``
``MethodRecord``        ``method.json``                             ``dalda plan``
``ManifestLine``        ``synthetic/manifest.jsonl`` (and parts)    ``dalda generate``
``PreparationFailure``  ``synthetic/.parts/prepare-failed-*.json``  ``dalda generate``
``ClassNames``          ``classes.json``, ``synthetic/``            ``dalda generate``
``FilterRecord``        ``synthetic/filter.jsonl``                  ``dalda filter``
``Checkpoint``          ``results/<classifier>_head.pt``            ``dalda train``
``TrainingRecord``      ``results/<classifier>_train.json``         ``dalda train``
``ClassifierResult``    ``results/<classifier>.json``               ``dalda evaluate``
``DiversityReport``     ``diversity.json``                          ``dalda evaluate``
``CellInfo``            ``cell.json``                               ``dalda experiment``
``ReportManifest``      ``report/manifest.json``                    ``dalda report``
======================  ==========================================  ==========================

``results/real_only/`` holds the real-only reference's ``_head.pt``, ``_train.json`` and ``.json``, in the same
types. ``Checkpoint`` is a torch file, not JSON; ``config.yaml`` is ``dalda.config``'s; the report's other files are
``dalda.report``'s.
"""

from dalda.artefacts.bookkeeping import HistoryLine, LockOwner, RunMarker, TrackerRuns
from dalda.artefacts.cell import CellInfo
from dalda.artefacts.checkpoint import Checkpoint
from dalda.artefacts.classes import ClassNames
from dalda.artefacts.diversity import DiversityReport
from dalda.artefacts.errors import MissingArtefactError
from dalda.artefacts.curation import CurationRecord, kept_by_person
from dalda.artefacts.filter import FilterRecord, rejected_by_filter
from dalda.artefacts.manifest import ManifestLine, parquet_safe, run_relative, table_rows
from dalda.artefacts.method import MethodRecord
from dalda.artefacts.plan import PlanRow
from dalda.artefacts.preparation import PreparationFailure
from dalda.artefacts.prompts import PromptsRecord, PromptTable
from dalda.artefacts.provenance import LoadedModel, ProvenanceRecord, StageProvenance
from dalda.artefacts.record import JsonLinesRecord, JsonRecord
from dalda.artefacts.report_manifest import REPORT_MANIFEST, ReportFigure, ReportManifest
from dalda.artefacts.result import ClassifierResult
from dalda.artefacts.scores import ScoreRecord
from dalda.artefacts.split import ImageRecord, Split, check_split_matches, read_split_for, source_base
from dalda.artefacts.table import ARTEFACTS, ARTEFACTS_BY_NAME, SHARED_ARTEFACTS, Artefact, SharedKey
from dalda.artefacts.training import TrainingRecord

__all__ = [
    "LoadedModel",
    "ProvenanceRecord",
    "StageProvenance",
    "ARTEFACTS",
    "ARTEFACTS_BY_NAME",
    "Artefact",
    "CellInfo",
    "ClassNames",
    "Checkpoint",
    "ClassifierResult",
    "DiversityReport",
    "FilterRecord",
    "HistoryLine",
    "ImageRecord",
    "JsonLinesRecord",
    "JsonRecord",
    "LockOwner",
    "ManifestLine",
    "MethodRecord",
    "MissingArtefactError",
    "PlanRow",
    "PreparationFailure",
    "PromptTable",
    "PromptsRecord",
    "REPORT_MANIFEST",
    "ReportFigure",
    "ReportManifest",
    "RunMarker",
    "SHARED_ARTEFACTS",
    "ScoreRecord",
    "SharedKey",
    "Split",
    "TrackerRuns",
    "TrainingRecord",
    "check_split_matches",
    "parquet_safe",
    "table_rows",
    "read_split_for",
    "source_base",
    "run_relative",
    "rejected_by_filter",
    "CurationRecord",
    "kept_by_person",
]
