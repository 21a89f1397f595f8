"""Reading finished runs into the records every table and figure is built from, and what the report shows of them.

The report never recomputes anything: every number it shows is read from a run's ``results/<classifier>.json``,
``diversity.json``, ``scores.jsonl`` or ``plan.jsonl``, so a table cell can always be traced to its file.
A run directory is any folder holding a ``config.yaml``; an experiment directory holds many of them, and an
experiment's own folder (``<out>/experiments/<name>``) lists its cells in ``summary.json``.

Besides the records (:class:`RunRecord`, :func:`load_runs`) and the files read through them (real-image scores,
planned λ, synthetic images), this module holds the choices every section shares:

- **Datasets**: their order and titles, and their high- and low-CLIPScore groups (HC / LC), as the paper splits
  its datasets for Tab. 3. A dataset's CLIPScore is the mean over its scored real images (each image once,
  whichever runs scored it). The paper reports means of 0.84 (Caltech-101) and 0.78 (Oxford Pets) for its HC
  group and 0.55 (Flowers102) for LC, with the softmax CLIPScore (each dataset's ``alignment`` in
  ``dalda.datasets``); a threshold of 0.7 separates them and is the default here. A dataset with mean >=
  threshold is HC, below is LC; a dataset with no scores (e.g. only real-image runs) has no group.
- **Showcase cells**: which runs an image section shows. An experiment holds the same dataset at several shot
  counts and trials; the scatter, the prompt table and the gallery each show one cell per dataset (every
  method of it side by side, the first (shots, trial) that has what the section needs) instead of repeating
  themselves for every trial. A single run is its own cell.
- **Columns**: which classifiers and diversity metrics the tables and figures show, in which order and under
  which title. Both come from their registries (``dalda.probes``, ``dalda.metrics``), so a new probe or metric
  gets its columns without an edit here. A classifier a run recorded but no registered probe knows (a run
  made with a plugin that is not loaded) still gets a column, titled by its name, after the known ones.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal


from dalda.artefacts import CellInfo, ClassifierResult, DiversityReport, ManifestLine, PlanRow, ScoreRecord
from dalda.configure import load_config
from dalda.config import DaldaConfig
from dalda.io import read_json
from dalda.datasets import DATASETS
from dalda.methods import MethodLabel, run_method
from dalda.metrics import column_title, diversity_metrics, fidelity_metrics, metric_names, on_by_default
from dalda.probes import PROBES
from dalda.rundir import RunDir
from dalda.scorers import SCORERS

log = logging.getLogger(__name__)

SUMMARY_FILE = "summary.json"
_NOT_RUNS = {"synthetic", "features", "data", "report", "results"}


@dataclass
class RunRecord:
    """One run directory as the report sees it."""

    root: Path
    config: DaldaConfig
    dataset: str
    """Dataset label: the grid's label for the cell, else ``data.dataset``."""
    label: MethodLabel
    """The method as the report shows it: the run's method (:attr:`base_label`), or a grid's variant of it under
    the cell's own name (``llm-ags-m5``); titles, row order and t-test references all come from it."""
    base_label: MethodLabel
    """The method the run ran (``dalda.methods.run_method``: the one that made its plan, under the prompt source
    that wrote its prompts: a cell named ``llm-ags`` whose prompts the template wrote is ``template-ags``)."""
    shots: int
    trial: int
    accuracy: dict[str, float] = field(default_factory=dict)
    """classifier -> accuracy, from ``results/<classifier>.json``."""
    results_files: dict[str, Path] = field(default_factory=dict)
    diversity: dict[str, float | None] = field(default_factory=dict)
    """diversity or fidelity metric name (``dalda.metrics``) -> the run's value, from ``diversity.json``."""
    kept_diversity: dict[str, float | None] = field(default_factory=dict)
    """The same over the images the filter kept, with ``num_images`` (``diversity.json`` "kept"); empty when the
    run was not filtered."""
    protocol: dict[str, str] = field(default_factory=dict)
    """classifier -> the ``train.protocol`` that made its accuracy and what that accuracy is ("authors: macro")."""
    best_epoch_accuracy: dict[str, float] = field(default_factory=dict)
    """classifier -> macro accuracy of its best epoch, chosen on the evaluation split (``authors`` only)."""
    gain: dict[str, dict[str, Any]] = field(default_factory=dict)
    """classifier -> its results file's ``gain_over_real_only`` (gain, interval, McNemar p), where it has one."""
    curve: dict[str, dict[int, float]] = field(default_factory=dict)
    """classifier -> {epoch: macro accuracy on that epoch's evaluation draws} (``authors`` only): the curve the
    paper's statistic averages over trials (``dalda.report.tables.trial_mean_best``)."""
    warnings: dict[str, list[str]] = field(default_factory=dict)
    """classifier -> what makes its accuracy meaningless or partial (one class, classes never evaluated, chance
    level), from the results file's ``warnings``; the report prints them under its accuracy tables."""

    @property
    def run(self) -> RunDir:
        return RunDir(self.root)

    @property
    def method(self) -> str:
        """The name the report shows the run under (:attr:`label`)."""
        return self.label.name

    @property
    def base_method(self) -> str:
        """The name of the method the run ran (:attr:`base_label`)."""
        return self.base_label.name

    @property
    def num_prompts(self) -> int:
        return self.config.prompts.num_prompts

    @property
    def score_variant(self) -> str:
        return self.config.score.variant


def find_run_dirs(root: Path) -> list[Path]:
    """Run directories for a report on ``root``: itself, the cells its ``summary.json`` lists, or all below it."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a directory; give a run directory or an experiment directory")
    if RunDir(root).config.is_file():
        return [root]
    summary = root / SUMMARY_FILE
    if summary.is_file():
        cells = read_json(summary).get("cells", [])
        listed = [Path(os.path.normpath(root / cell["run_dir"])) for cell in cells if "run_dir" in cell]
        return [path for path in listed if RunDir(path).config.is_file()]
    found: list[Path] = []
    for folder, subfolders, files in os.walk(root):
        if "config.yaml" in files:
            found.append(Path(folder))
            subfolders.clear()  # a run directory holds no further runs
            continue
        subfolders[:] = sorted(name for name in subfolders if name not in _NOT_RUNS and name[0] not in "._")
    return sorted(found)


def _load_config(path: Path) -> DaldaConfig | None:
    """The run's recorded config, read as today's version reads it (old spellings included, without warning:
    a finished run's record is not the user's to rewrite)."""
    try:
        return load_config(path, announce=False)
    except (ValueError, OSError) as error:
        log.warning("skipping %s: its config cannot be read by this version of dalda (%s)", path.parent, error)
        return None


def epoch_curve(result: ClassifierResult) -> dict[int, float]:
    """{epoch: macro accuracy} of the epochs a results file says were evaluated while training (``authors``: its
    ``best_epoch`` was chosen among them); empty for ``fast``, whose only epoch is the final one."""
    if not result.best_epoch or not result.epochs:
        return {}
    return {
        int(entry["epoch"]): float(entry["macro_accuracy"])
        for entry in result.epochs
        if _number(entry.get("epoch")) is not None and _number(entry.get("macro_accuracy")) is not None
    }


def _results(
    run: RunDir,
    classifiers: list[str],
    protocols: dict[str, str],
    best: dict[str, float],
    curves: dict[str, dict[int, float]],
    gains: dict[str, dict[str, Any]],
    warnings: dict[str, list[str]],
) -> tuple[dict[str, float], dict[str, Path], dict[str, Any]]:
    """Accuracy per classifier from ``results/<classifier>.json``, and the diversity values they carry; fills
    ``protocols`` (classifier -> "authors: macro", files older than the protocols: "fast: micro"), ``best``,
    ``curves``, ``gains`` and ``warnings``."""
    accuracy: dict[str, float] = {}
    files: dict[str, Path] = {}
    diversity: dict[str, Any] = {}
    for classifier in classifiers:
        path = run.result_file(classifier)
        if not path.is_file():
            continue
        try:
            result = ClassifierResult.read(path)
        except ValueError:
            log.warning("skipping unreadable results file %s", path)
            continue
        if _number(result.accuracy) is None:
            log.warning("skipping %s: it has no numeric accuracy", path)
            continue
        accuracy[classifier] = float(result.accuracy)
        protocols[classifier] = f"{result.protocol or 'fast'}: {result.accuracy_metric or 'micro'}"
        if result.best_epoch and _number(result.best_epoch.get("macro_accuracy")) is not None:
            best[classifier] = float(result.best_epoch["macro_accuracy"])
        if epoch_curve(result):
            curves[classifier] = epoch_curve(result)
        if result.gain_over_real_only:
            gains[classifier] = dict(result.gain_over_real_only)
        files[classifier] = path
        if result.warnings:
            warnings[classifier] = list(result.warnings)
        diversity = result.diversity or diversity
    return accuracy, files, diversity


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _kept_diversity(kept: Any) -> dict[str, float | None]:
    if not isinstance(kept, dict):
        return {}
    return {name: _number(kept.get(name)) for name in ["num_images", *metric_names()]}


def load_run(root: Path) -> RunRecord | None:
    """The record of one run directory; None (with a warning) when its config cannot be read."""
    run = RunDir(Path(root))
    config = _load_config(run.config)
    if config is None:
        return None
    protocols: dict[str, str] = {}
    best: dict[str, float] = {}
    curves: dict[str, dict[int, float]] = {}
    gains: dict[str, dict[str, Any]] = {}
    warnings: dict[str, list[str]] = {}
    accuracy, files, from_results = _results(
        run, list(config.train.classifiers), protocols, best, curves, gains, warnings
    )
    diversity = DiversityReport.read(run).values if run.diversity.is_file() else from_results
    cell = CellInfo.read_optional(run)
    base = run_method(config, run)
    return RunRecord(
        root=run.root,
        config=config,
        dataset=cell.dataset if cell else config.data.dataset,
        label=base if cell is None else base.variant(cell.method),
        base_label=base,
        shots=config.data.shots,
        trial=config.data.trial,
        accuracy=accuracy,
        results_files=files,
        diversity={name: _number(diversity.get(name)) for name in metric_names()},
        kept_diversity=_kept_diversity(diversity.get("kept")),
        protocol=protocols,
        best_epoch_accuracy=best,
        curve=curves,
        gain=gains,
        warnings=warnings,
    )


def load_runs(roots: list[Path]) -> list[RunRecord]:
    """The records of ``roots``; single runs of one dataset name on different data folders (two ``imagefolder``
    runs on two photo folders) are labelled apart by their folder, so the report never pools them."""
    records = [record for record in (load_run(root) for root in roots) if record is not None]
    folders: dict[str, set[str]] = {}
    for record in records:
        if CellInfo.read_optional(record.run) is None:
            folders.setdefault(record.dataset, set()).add(str(record.config.data.root))
    for record in records:
        if len(folders.get(record.dataset, ())) > 1 and CellInfo.read_optional(record.run) is None:
            record.dataset = f"{record.dataset} ({_folder_label(record.config.data.root, folders[record.dataset])})"
    return records


def _folder_label(root: Path | None, roots: set[str]) -> str:
    """The shortest tail of ``root``'s path that no other of ``roots`` shares (e.g. ``photos/cats``)."""
    if root is None:
        return "default folder"
    parts = Path(root).parts
    for length in range(1, len(parts) + 1):
        tail = Path(*parts[-length:])
        if not any(other != str(root) and Path(other).parts[-length:] == parts[-length:] for other in roots):
            return str(tail)
    return str(root)


def scorer_name(record: RunRecord) -> str:
    """The alignment scorer that set the run's λ, by its entry's own name (``clip-softmax`` and ``softmax`` are
    one scorer); a name no registered scorer has is kept as written."""
    variant = record.score_variant
    return SCORERS.get(variant).name if variant in SCORERS else variant


def real_image_scores_by_scorer(records: list[RunRecord]) -> dict[str, dict[str, dict[str, float]]]:
    """scorer -> dataset -> {real image path: that scorer's value}, over every run's ``scores.jsonl``.

    An image scored in several runs with one scorer (the same split shared by all methods) counts once.
    """
    scores: dict[str, dict[str, dict[str, float]]] = {}
    for record in records:
        if record.run.scores.is_file() and record.score_variant in SCORERS:
            values = scores.setdefault(scorer_name(record), {}).setdefault(record.dataset, {})
            for score in ScoreRecord.read_all(record.run):
                values[score.path] = SCORERS.get(record.score_variant).value(score.measures)
    return scores


def real_image_scores(records: list[RunRecord]) -> dict[str, dict[str, float]]:
    """dataset -> {real image path: CLIPScore}: the values of one scorer per dataset, so a histogram never
    mixes two scorers' numbers; the paper's (CLIP softmax) when a run of the dataset used it, else the scorer of
    the dataset's first run. Every scorer's values: :func:`real_image_scores_by_scorer`.
    """
    by_scorer = real_image_scores_by_scorer(records)
    preferred = SCORERS.get("softmax").name
    scores: dict[str, dict[str, float]] = {}
    for record in records:
        if record.dataset in scores:
            continue
        for name in (preferred, scorer_name(record)):
            if record.dataset in by_scorer.get(name, {}):
                scores[record.dataset] = by_scorer[name][record.dataset]
                break
    return scores


def plan_lambdas(record: RunRecord) -> list[float]:
    """The λ of every planned synthetic image of a run (empty when it has no plan)."""
    if not record.run.plan.is_file():
        return []
    return [float(row.ip_scale) for row in PlanRow.read_all(record.run) if _number(row.ip_scale) is not None]


def synthetic_rows(record: RunRecord) -> list[dict[str, Any]]:
    """Manifest lines of a run's synthetic images whose files exist, each with ``path`` added."""
    if not record.run.manifest.is_file():
        return []
    rows = []
    for line in ManifestLine.read_all(record.run):
        path = line.image_path(record.run.synthetic)
        if path.is_file():
            source = line.source_file(record.run.root)
            rows.append({**line.to_json(), "path": path, "source_path": None if source is None else str(source)})
    return rows


def _key(path: str) -> str:
    return os.path.realpath(path)


def run_scores(record: RunRecord) -> dict[str, float]:
    """real image (resolved path) -> its alignment value under the run's variant, from ``scores.jsonl``."""
    if not record.run.scores.is_file():
        return {}
    scorer = SCORERS.get(record.score_variant)
    return {_key(score.path): scorer.value(score.measures) for score in ScoreRecord.read_all(record.run)}


# ------------------------------------------------------------------------------------ datasets and groups

HC_THRESHOLD = 0.7


@dataclass(frozen=True)
class DatasetGroup:
    dataset: str
    mean_score: float | None
    images: int
    group: str | None
    """"HC", "LC", or None when the dataset has no CLIPScores."""


def dataset_groups(
    scores: dict[str, dict[str, float]], datasets: list[str], threshold: float
) -> dict[str, DatasetGroup]:
    """The group of each dataset from its real images' CLIPScores (``scores``: dataset -> {image: score})."""
    groups = {}
    for dataset in datasets:
        values = list(scores.get(dataset, {}).values())
        mean = sum(values) / len(values) if values else None
        group = None if mean is None else ("HC" if mean >= threshold else "LC")
        groups[dataset] = DatasetGroup(dataset, mean, len(values), group)
    return groups


def dataset_order(datasets: list[str]) -> list[str]:
    """The paper's datasets in its order (Pets, Caltech-101, Flowers102), then the others as first met."""
    found = list(dict.fromkeys(datasets))
    known = [name for name, spec in DATASETS.items() if spec.alignment is not None and name in found]
    return known + [name for name in found if name not in known]


def dataset_title(dataset: str, group: DatasetGroup | None = None) -> str:
    """"Oxford Pets (HC)" style heading; unknown datasets are shown as named."""
    title = DATASETS.get(dataset).title if dataset in DATASETS else dataset
    return f"{title} ({group.group})" if group is not None and group.group else title


# ----------------------------------------------------------------------------------------- showcase cells

def showcase_cells(
    records: Sequence[RunRecord], has: Callable[[RunRecord], bool]
) -> list[tuple[str, list[RunRecord]]]:
    """(dataset, its runs of the first (shots, trial) for which ``has`` holds, in method order), per dataset."""
    cells = []
    for dataset in dataset_order([record.dataset for record in records]):
        mine = [record for record in records if record.dataset == dataset and has(record)]
        if not mine:
            continue
        first = min((record.shots, record.trial) for record in mine)
        chosen = [record for record in mine if (record.shots, record.trial) == first]
        cells.append((dataset, sorted(chosen, key=lambda record: record.label.sort_key)))
    return cells


def cell_title(records: Sequence[RunRecord]) -> str:
    """"4-shot trial 0" for the runs of one cell."""
    return f"{records[0].shots}-shot trial {records[0].trial}"


# ------------------------------------------------------------------------------------------------ columns

RecordValue = Callable[[RunRecord], float | None]


def classifier_title(classifier: str) -> str:
    return PROBES.get(classifier).title if classifier in PROBES else classifier


def _found(records: Sequence[RunRecord]) -> set[str]:
    return {classifier for record in records for classifier in record.accuracy}


def classifiers_of(records: Sequence[RunRecord]) -> list[str]:
    """The classifiers the records have, in table order (Tab. 2: Acc-CLIP, then Acc-RN50)."""

    def key(name: str) -> tuple[float, str]:
        return (PROBES.get(name).table_order if name in PROBES else math.inf, name)

    return sorted(_found(records), key=key)


def classifiers_in_figure_order(records: Sequence[RunRecord]) -> list[str]:
    """The classifiers the records have, in the paper's figure order (Fig. 8, Tab. 3: ResNet50 first)."""

    def key(name: str) -> tuple[float, str]:
        return (PROBES.get(name).figure_order if name in PROBES else math.inf, name)

    return sorted(_found(records), key=key)


def accuracy_of(classifier: str) -> RecordValue:
    return lambda record: record.accuracy.get(classifier)


def diversity_columns(
    records: Sequence[RunRecord] | None = None,
) -> list[tuple[str, RecordValue, Literal["lower", "higher"]]]:
    """(column title, value of a run, the better direction) of each diversity metric ("CLIP-I (↓)", ..., "lower"),
    then each fidelity metric ("FID (↓)": lower is closer to the real images).

    A metric that is off by default (DINO, FID, KID: ``enabled`` defaults to false in its settings) gets a
    column only when one of ``records`` has a value for it, so reports of runs that never enabled it look as
    before.
    """
    columns: list[tuple[str, RecordValue, Literal["lower", "higher"]]] = []
    for name, metric in [*diversity_metrics(), *fidelity_metrics()]:
        if not on_by_default(metric) and not any(r.diversity.get(name) is not None for r in records or ()):
            continue
        better: Literal["lower", "higher"] = "higher" if metric.higher_is_more_diverse else "lower"
        columns.append((column_title(metric), _diversity_of(name), better))
    return columns


def _diversity_of(name: str) -> RecordValue:
    return lambda record: record.diversity.get(name)
