"""The typed run directory: one small record type per file a stage writes, each with ``read`` and ``write``.

Every type reads and writes exactly the bytes the stages always wrote (runs made before still load), and a
missing input raises :class:`MissingArtefactError`, naming the file and the command that makes it. Paths come
from :class:`dalda.rundir.RunDir`; ``read``/``write`` take the run directory or a file path.

=====================  ==================================  =================
type                   file                                made by
=====================  ==================================  =================
``Split``              ``split.json``                      ``dalda data``
``ScoreRecord``        ``scores.jsonl`` (one per line)     ``dalda score``
``PromptTable``        ``prompts.json``                    ``dalda prompts``
``PromptsRecordFile``  ``prompts_record.json``             ``dalda prompts``
``PlanRow``            ``plan.jsonl`` (one per line)       ``dalda plan``
``MethodRecord``       ``method.json``                     ``dalda plan``
``ManifestLine``       ``synthetic/metadata.jsonl``        ``dalda generate``
``ClassNames``         ``classes.json``, ``synthetic/``     ``dalda generate``
``FilterRecord``       ``synthetic/filter.jsonl``          ``dalda filter``
``Checkpoint``         ``results/<classifier>_head.pt``    ``dalda train``
``ClassifierResult``   ``results/<classifier>.json``       ``dalda evaluate``
``ClassifierResult``   ``results/real_only/<c>.json``      ``dalda evaluate``
``DiversityReport``    ``diversity.json``                  ``dalda evaluate``
``CellInfo``           ``cell.json``                       ``dalda experiment``
``ReportManifest``     ``report/manifest.json``            ``dalda report``
=====================  ==================================  =================
"""

from dalda.artefacts.cell import CellInfo
from dalda.artefacts.classes import ClassNames
from dalda.artefacts.checkpoint import Checkpoint
from dalda.artefacts.diversity import DiversityReport
from dalda.artefacts.errors import MissingArtefactError
from dalda.artefacts.filter import FILTER_COLUMN, FilterRecord
from dalda.artefacts.manifest import ManifestLine, parquet_safe, run_relative
from dalda.artefacts.method import MethodRecord
from dalda.artefacts.plan import PlanRow
from dalda.artefacts.prompts import PromptsRecordFile, PromptTable
from dalda.artefacts.report_manifest import REPORT_MANIFEST, ReportFigure, ReportManifest
from dalda.artefacts.result import ClassifierResult
from dalda.artefacts.scores import ScoreRecord
from dalda.artefacts.split import ImageRecord, Split, check_split_matches, read_split_for

__all__ = [
    "CellInfo",
    "ClassNames",
    "Checkpoint",
    "ClassifierResult",
    "DiversityReport",
    "FILTER_COLUMN",
    "FilterRecord",
    "ImageRecord",
    "ManifestLine",
    "MethodRecord",
    "MissingArtefactError",
    "PlanRow",
    "PromptTable",
    "PromptsRecordFile",
    "REPORT_MANIFEST",
    "ReportFigure",
    "ReportManifest",
    "ScoreRecord",
    "Split",
    "check_split_matches",
    "parquet_safe",
    "read_split_for",
    "run_relative",
]
