"""Every table of the report, and the statistics and reference numbers its cells hold.

A :class:`Table` keeps raw numbers; Markdown and HTML round them for reading (4 decimals, the best value of
a column in bold) while CSV keeps full precision, with a mean's std and count in their own columns, so every
cell can be checked against the results files it was averaged from.

- **The paper's tables**: Tab. 1 (diversity), Tab. 2 (accuracy), Tab. 3 (HC/LC groups + paired tests), and the
  per-run index. Tab. 1 shows, per dataset and method, the mean (± sample std) over trials.
- **The paper's statistic** (Tab. 2, Tab. 3; ``docs/protocol.md``): under ``train.protocol=authors`` each run
  stores its macro accuracy after every epoch; a cell (dataset, method, shots, classifier) averages those curves
  over the trials and reports the best epoch of the mean curve, with that epoch and the mean curve's final epoch
  beside it (:func:`trial_mean_best`), as the authors' plotting does. Under ``fast`` (opt-in), or for files
  without curves, a cell is the mean over trials of the final-epoch accuracy. Every table's notes say which.
- **Statistics** (Appendix A): spread is the sample standard deviation (ddof=1), as reported with "mean ± std
  over trials"; everything is averaged in float64. Tab. 3 compares DALDA with each other method over the runs
  both made for the same (dataset, trial, shots), which share split and seed, so the runs pair: the paired
  t-test (``scipy.stats.ttest_rel``) and the Wilcoxon signed-rank test (``scipy.stats.wilcoxon``), two-sided.
  With fewer than two pairs no test is possible: statistics and p are NaN rather than a misleading number.
  One run against its real-only reference (gain, bootstrap interval, McNemar) is the evaluate stage's
  (``dalda.evaluation.paired``), read here from the results file.
- **Reference rows**, which every accuracy table carries:

  - *Real images only*: the classifier the train stage trained beside the run's own on the real images alone
    (``results/real_only/<classifier>.json``, ``train.real_only_reference``). A run that used no synthetic
    image (method ``none``) is its own reference. Runs made before the reference existed simply have no such
    row.
  - *Zero-shot CLIP*: the untrained CLIP head the evaluate stage scores (``zero_shot_clip_*`` of a results
    file), shown in the columns of probes that offer a zero-shot head (``ProbeSpec.zero_shot``), in the same
    accuracy as the run's headline number (macro under ``train.protocol=authors``, micro under ``fast``).

  Runs of the same dataset, shots and trial share their split and seed, so their references are the same
  numbers; tables show each (dataset, shots, trial) once and average over trials like every other row.
  References are never candidates for "best" in a table (``Table.references``).
- **Per-class accuracy** of one run's classifier beside its two references: rows come straight from the results
  files (``per_class_accuracy`` of the run's result, of its real-only reference, and
  ``zero_shot_clip_per_class_accuracy``), one per class in the split's class order. The gain is the run's
  accuracy minus the real-only reference's, for classes both evaluated.
- **Confusions**: which classes a classifier mistakes for which, from ``confusion[true][predicted]``
  (``ClassifierResult.confusion``, written by the evaluate stage), read as is. Every report lists the top
  confusions (true -> predicted, count, share of the true class's evaluation images), which stays readable at
  any class count.

Their charts (per-class gain, confusion heat-map) are in ``figures.py``; the page section showing them per run
is ``page.py``'s.
"""

from __future__ import annotations

import csv
import html
import io
import logging
import math
import os
import warnings
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from scipy import stats

from dalda.artefacts import ClassifierResult
from dalda.methods import MethodLabel, reference_for
from dalda.probes import PROBES
from dalda.report.collect import (
    DatasetGroup,
    epoch_curve,
    RunRecord,
    accuracy_of,
    classifier_title,
    classifiers_in_figure_order,
    classifiers_of,
    dataset_title,
    diversity_columns,
)

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------- statistics

@dataclass(frozen=True)
class Summary:
    mean: float
    std: float | None
    """Sample standard deviation; None for a single value."""
    n: int


def summarize(values: Sequence[float]) -> Summary | None:
    """Mean, sample std and count; None for no values."""
    if not values:
        return None
    array = np.asarray(values, dtype=np.float64)
    std = float(array.std(ddof=1)) if len(array) > 1 else None
    return Summary(mean=float(array.mean()), std=std, n=len(array))


@dataclass(frozen=True)
class PairedTest:
    """Two methods compared on matched runs (same dataset, trial and shots): paired t and Wilcoxon signed-rank."""

    mean_a: float
    mean_b: float
    difference: float
    """Mean of the paired differences a - b (= mean_a - mean_b)."""
    t_statistic: float
    t_pvalue: float
    wilcoxon_statistic: float
    wilcoxon_pvalue: float
    n_pairs: int


def paired_test(a: Sequence[float], b: Sequence[float]) -> PairedTest:
    """Paired two-sided t-test (``scipy.stats.ttest_rel``) and Wilcoxon signed-rank test (``scipy.stats.wilcoxon``)
    of ``a[i]`` against ``b[i]``; NaN where a test is impossible (fewer than two pairs, no non-zero difference)."""
    if len(a) != len(b) or not a:
        raise ValueError(f"a paired test needs equally many values on each side, at least one (got {len(a)}, {len(b)})")
    first, second = np.asarray(a, np.float64), np.asarray(b, np.float64)
    t_statistic = t_pvalue = w_statistic = w_pvalue = math.nan
    if len(first) >= 2:
        with warnings.catch_warnings():  # identical differences: scipy warns and returns NaN, as we want
            warnings.simplefilter("ignore", RuntimeWarning)
            t = stats.ttest_rel(first, second)
        t_statistic, t_pvalue = float(t.statistic), float(t.pvalue)
        if np.any(first != second):
            w = stats.wilcoxon(first, second)
            w_statistic, w_pvalue = float(w.statistic), float(w.pvalue)
    mean_a, mean_b = float(first.mean()), float(second.mean())
    return PairedTest(
        mean_a, mean_b, float((first - second).mean()), t_statistic, t_pvalue, w_statistic, w_pvalue, len(first)
    )


@dataclass(frozen=True)
class CurveBest:
    """The paper's statistic for one (dataset, method, shots, classifier): the per-epoch macro accuracy averaged
    over the trials, and the best epoch of that mean curve (chosen on the evaluation draws, as the authors'
    plotting does), with the mean curve's final epoch beside it."""

    best: Summary
    """Mean (± sample std) over trials at the best epoch of the mean curve."""
    epoch: int
    final: Summary
    """Mean (± sample std) over trials at the curve's last epoch."""


def trial_mean_best(curves: Sequence[dict[int, float]]) -> CurveBest | None:
    """:class:`CurveBest` of the trials' curves ({epoch: macro accuracy}), over the epochs every trial has (the
    earliest on ties); None without curves or shared epochs. Averaged in float64."""
    if not curves or not all(curves):
        return None
    epochs = sorted(set.intersection(*(set(curve) for curve in curves)))
    if not epochs:
        return None
    mean = {epoch: float(np.mean([curve[epoch] for curve in curves], dtype=np.float64)) for epoch in epochs}
    best = max(epochs, key=lambda epoch: (mean[epoch], -epoch))
    at = lambda epoch: Summary(  # noqa: E731
        mean[epoch], float(np.std([curve[epoch] for curve in curves], ddof=1)) if len(curves) > 1 else None, len(curves)
    )
    return CurveBest(at(best), best, at(epochs[-1]))


# ----------------------------------------------------------------------------------------- reference rows

REAL_ONLY = "Real images only (reference)"
ZERO_SHOT = "Zero-shot CLIP (reference)"
REAL_ONLY_METHOD = "real-only reference"
ZERO_SHOT_METHOD = "zero-shot CLIP reference"


@dataclass
class RunAccuracy:
    """The accuracy files of one run: its own results, its real-only reference and the zero-shot numbers."""

    record: RunRecord
    results: dict[str, ClassifierResult] = field(default_factory=dict)
    """classifier -> the run's own ``results/<classifier>.json``."""
    real_only: dict[str, ClassifierResult] = field(default_factory=dict)
    """classifier -> the real-only reference (the run's own result when the run is real-only)."""

    @property
    def is_real_only(self) -> bool:
        return bool(self.results) and all(result.method == "none" for result in self.results.values())

    def zero_shot(self, classifier: str) -> float | None:
        """Zero-shot CLIP accuracy in ``classifier``'s headline metric; None when not stored or not a zero-shot
        probe's column."""
        result = self.results.get(classifier)
        if result is None or not (classifier in PROBES and PROBES.get(classifier).zero_shot):
            return None
        return zero_shot_accuracy(result)

    def zero_shot_per_class(self, classifier: str) -> dict[str, float | None]:
        result = self.results.get(classifier)
        return dict(result.zero_shot_clip_per_class_accuracy or {}) if result else {}


def zero_shot_accuracy(result: ClassifierResult) -> float | None:
    """The zero-shot accuracy comparable with ``result.accuracy``: the macro mean of its per-class accuracies
    when the headline is macro (authors), else the stored (micro) number."""
    if result.accuracy_metric == "macro" and result.zero_shot_clip_per_class_accuracy:
        present = [v for v in result.zero_shot_clip_per_class_accuracy.values() if isinstance(v, (int, float))]
        return sum(present) / len(present) if present else None
    value = result.zero_shot_clip_accuracy
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _read(path: Path) -> ClassifierResult | None:
    if not path.is_file():
        return None
    try:
        return ClassifierResult.read(path)
    except ValueError:
        log.warning("skipping unreadable results file %s", path)
        return None


def load_run_accuracy(record: RunRecord) -> RunAccuracy:
    """Every results file of ``record`` the report's accuracy sections read (missing files are left out)."""
    details = RunAccuracy(record)
    for classifier in record.results_files:
        own = _read(record.run.result_file(classifier))
        if own is None:
            continue
        details.results[classifier] = own
        reference = own if own.method == "none" else _read(record.run.reference_result_file(classifier))
        if reference is not None and isinstance(reference.accuracy, (int, float)):
            details.real_only[classifier] = reference
    return details


def run_label(record: RunRecord, base: Path) -> str:
    """How tables name a run: its path relative to the report's folder, or its folder name for the run itself."""
    where = os.path.relpath(record.root, base)
    return record.root.resolve().name if where == "." else where


TrialKey = tuple[str, int, int]
"""(dataset, shots, trial): runs sharing it share their split, seed and so their references."""


def _trial_key(record: RunRecord) -> TrialKey:
    return (record.dataset, record.shots, record.trial)


def reference_values(
    details: Sequence[RunAccuracy], classifier: str
) -> tuple[dict[TrialKey, float], dict[TrialKey, float]]:
    """(real-only, zero-shot) accuracy of ``classifier`` per (dataset, shots, trial); runs of the same trial
    with different numbers (other training settings) are averaged."""
    real: dict[TrialKey, list[float]] = defaultdict(list)
    zero: dict[TrialKey, list[float]] = defaultdict(list)
    for item in details:
        key = _trial_key(item.record)
        reference = item.real_only.get(classifier)
        if reference is not None:
            real[key].append(float(reference.accuracy))  # type: ignore[arg-type]
        value = item.zero_shot(classifier)
        if value is not None:
            zero[key].append(value)
    mean = lambda values: sum(values) / len(values)  # noqa: E731
    return {k: mean(v) for k, v in real.items()}, {k: mean(v) for k, v in zero.items()}


def trial_keys(details: Sequence[RunAccuracy]) -> list[TrialKey]:
    return sorted({_trial_key(item.record) for item in details})


# ----------------------------------------------------------------------------------------- the Table type

Cell = str | int | float | Summary | None

NUM = " class='num'"
"""The class of a number cell: the page's style right-aligns it (``dalda.report.page``), text stays left."""


def is_number(value: object) -> bool:
    """A cell shown as a number (a bool is a flag, not a number)."""
    return isinstance(value, (int, float, Summary)) and not isinstance(value, bool)


@dataclass(frozen=True)
class Column:
    name: str
    better: Literal["lower", "higher"] | None = None
    """Which direction is best; that column's best mean is shown in bold."""
    digits: int = 4


@dataclass
class Table:
    key: str
    """File stem of the table's .md and .csv files."""
    title: str
    columns: list[Column]
    rows: list[list[Cell]]
    notes: list[str] = field(default_factory=list)
    references: set[int] = field(default_factory=set)
    """Indices of reference rows (real images only, zero-shot): shown apart and never bold as the best."""

    def _best(self) -> dict[int, tuple[float, bool]]:
        """Column -> (best mean, whether one row alone has it), over the non-reference rows; a column whose
        rows all tie has no best."""
        best: dict[int, tuple[float, bool]] = {}
        for index, column in enumerate(self.columns):
            values = [_mean(row[index]) for i, row in enumerate(self.rows) if i not in self.references]
            values = [value for value in values if value is not None and not math.isnan(value)]
            if column.better and len(set(values)) > 1:  # all tied: no row is best
                top = min(values) if column.better == "lower" else max(values)
                best[index] = (top, values.count(top) == 1)
        return best

    def _display(
        self,
        index: int,
        cell: Cell,
        best: dict[int, tuple[float, bool]],
        bold: Callable[[str], str],
        escape: bool = False,
        reference: bool = False,
    ) -> str:
        """A cell's text: the unique best in bold, a best shared by several rows marked "(tie)"."""
        text = _format(cell, self.columns[index].digits)
        text = html.escape(text) if escape else text
        mean = _mean(cell)
        if reference or index not in best or mean is None or mean != best[index][0]:
            return text
        return bold(text) if best[index][1] else f"{text} (tie)"

    def markdown(self) -> str:
        best = self._best()
        header = "| " + " | ".join(column.name for column in self.columns) + " |"
        numeric = [any(_mean(row[i]) is not None for row in self.rows) for i in range(len(self.columns))]
        rule = "|" + "|".join("---:" if number else "---" for number in numeric) + "|"
        lines = [f"### {self.title}", "", header, rule]
        for number, row in enumerate(self.rows):
            reference = number in self.references
            cells = [
                self._display(i, cell, best, lambda text: f"**{text}**", reference=reference)
                for i, cell in enumerate(row)
            ]
            if reference:
                cells[0] = f"_{cells[0]}_"
            lines.append("| " + " | ".join(cells) + " |")
        lines += [""] + [f"{note}  " for note in self.notes]
        return "\n".join(lines).rstrip() + "\n"

    def _numeric(self, index: int) -> bool:
        """Whether column ``index`` holds numbers (right-aligned on the page; text stays left-aligned)."""
        values = [row[index] for row in self.rows if row[index] is not None]
        return bool(values) and all(is_number(value) for value in values)

    def html(self) -> str:
        best = self._best()
        numeric = [self._numeric(index) for index in range(len(self.columns))]
        head = "".join(
            f"<th{NUM if numeric[i] else ''}>{html.escape(column.name)}</th>" for i, column in enumerate(self.columns)
        )
        body = []
        for number, row in enumerate(self.rows):
            reference = number in self.references
            cells = [
                self._display(i, cell, best, lambda text: f"<b>{text}</b>", escape=True, reference=reference)
                for i, cell in enumerate(row)
            ]
            opening = "<tr class='reference'>" if reference else "<tr>"
            tds = "".join(f"<td{NUM if numeric[i] else ''}>{cell}</td>" for i, cell in enumerate(cells))
            body.append(f"{opening}{tds}</tr>")
        notes = "".join(f"<p class='note'>{html.escape(note)}</p>" for note in self.notes)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{notes}"

    def csv(self) -> str:
        """Full-precision CSV; a mean ± std column becomes three columns: name, "name std", "name n"."""
        summaries = {i for i, _ in enumerate(self.columns) if any(isinstance(row[i], Summary) for row in self.rows)}
        header: list[str] = []
        for index, column in enumerate(self.columns):
            header += [column.name, f"{column.name} std", f"{column.name} n"] if index in summaries else [column.name]
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        for row in self.rows:
            out: list[str] = []
            for index, cell in enumerate(row):
                if index in summaries:
                    out += [repr(cell.mean), _raw(cell.std), str(cell.n)] if isinstance(cell, Summary) else ["", "", ""]
                else:
                    out.append(_raw(cell))
            writer.writerow(out)
        return buffer.getvalue()


def _mean(cell: Cell) -> float | None:
    if isinstance(cell, Summary):
        return cell.mean
    if isinstance(cell, (int, float)) and not isinstance(cell, bool):
        return float(cell)
    return None


def _format(cell: Cell, digits: int) -> str:
    if cell is None:
        return "–"
    if isinstance(cell, Summary):
        text = f"{cell.mean:.{digits}f}"
        return text if cell.std is None else f"{text} ± {cell.std:.{digits}f}"
    if isinstance(cell, float):
        if math.isnan(cell):
            return "n/a"
        return f"{cell:.{digits}f}" if abs(cell) >= 10**-digits or cell == 0 else f"{cell:.1e}"
    return str(cell)


def _raw(cell: Cell) -> str:
    if cell is None:
        return ""
    return repr(cell) if isinstance(cell, float) else str(cell)


def _values(records: Sequence[RunRecord], metric: Callable[[RunRecord], float | None]) -> list[float]:
    return [value for value in (metric(record) for record in records) if value is not None]


def _methods(records: Sequence[RunRecord]) -> list[MethodLabel]:
    """The methods the records show, one per name, in table order (``MethodLabel.sort_key``)."""
    labels = {record.method: record.label for record in records}
    return sorted(labels.values(), key=lambda label: label.sort_key)


def _per_dataset_table(
    key: str,
    title: str,
    records: Sequence[RunRecord],
    datasets: Sequence[str],
    groups: dict[str, DatasetGroup],
    metrics: Sequence[tuple[str, Callable[[RunRecord], float | None], Literal["lower", "higher"]]],
    notes: list[str],
) -> Table | None:
    columns = [Column("Method")] + [
        Column(f"{dataset_title(dataset, groups.get(dataset))} {name}", better)
        for dataset in datasets
        for name, _, better in metrics
    ]
    rows: list[list[Cell]] = []
    for method in _methods(records):
        row: list[Cell] = [method.title]
        for dataset in datasets:
            mine = [r for r in records if r.method == method.name and r.dataset == dataset]
            row += [summarize(_values(mine, metric)) for _, metric, _ in metrics]
        if any(cell is not None for cell in row[1:]):
            rows.append(row)
    return Table(key, title, columns, rows, notes) if rows else None


def diversity_table(
    records: Sequence[RunRecord], shots: int, datasets: Sequence[str], groups: dict[str, DatasetGroup], key: str
) -> Table | None:
    """Tab. 1: each diversity metric (CLIP-I: lower = more diverse, LPIPS: higher) per dataset and method."""
    chosen = [r for r in records if r.shots == shots]
    metrics = diversity_columns(chosen)
    notes = [
        f"{shots}-shot; mean (± sample std) over trials of each run's diversity.json values (pairing rule in "
        "diversity.json). Best value per column in bold."
    ]
    return _per_dataset_table(key, f"Tab. 1 — diversity, {shots}-shot", chosen, datasets, groups, metrics, notes)


# ------------------------------------------------------------------------------- the paper's accuracy statistic

def _cell_value(runs: Sequence[RunRecord], classifier: str) -> tuple[Summary | CurveBest | None, dict[Path, float]]:
    """The statistic of one table cell (the runs of one dataset, method and shots) and each run's value under it.

    When every run carries an ``authors`` epoch curve, the cell is the paper's statistic (:func:`trial_mean_best`)
    and a run's value is its own curve at the cell's best epoch; otherwise (``fast``, older files) the cell is
    the mean over trials of the final-epoch accuracy and a run's value is that accuracy.
    """
    curves = [run.curve.get(classifier, {}) for run in runs]
    best = trial_mean_best(curves)
    if best is not None:
        return best, {run.root: curve[best.epoch] for run, curve in zip(runs, curves)}
    values = {run.root: run.accuracy[classifier] for run in runs if classifier in run.accuracy}
    return summarize(list(values.values())), values


def run_values(records: Sequence[RunRecord], classifier: str) -> dict[Path, float]:
    """Each run's accuracy under its table cell's statistic (:func:`_cell_value`), cells being (dataset, method,
    shots): what Tab. 3 averages and pairs."""
    cells: dict[tuple[str, str, int], list[RunRecord]] = defaultdict(list)
    for record in records:
        if classifier in record.accuracy:
            cells[(record.dataset, record.method, record.shots)].append(record)
    values: dict[Path, float] = {}
    for runs in cells.values():
        values.update(_cell_value(runs, classifier)[1])
    return values


def _split_cell(cell: Summary | CurveBest | None, with_epochs: bool) -> list[Cell]:
    """The statistic of a Tab. 2 cell, then (``with_epochs``) its best epoch and final epoch; the fast statistic
    leaves those two empty."""
    if isinstance(cell, CurveBest):
        return [cell.best, cell.epoch, cell.final]
    return [cell, None, None] if with_epochs else [cell]


def accuracy_table(
    records: Sequence[RunRecord], shots: int, datasets: Sequence[str], groups: dict[str, DatasetGroup], key: str
) -> Table | None:
    """Tab. 2: accuracy of each classifier per dataset and method, in the paper's statistic where the runs allow
    it (:func:`_cell_value`), its best epoch and the final epoch beside it."""
    chosen = [r for r in records if r.shots == shots]
    classifiers = classifiers_of(chosen)
    with_epochs = any(record.curve for record in chosen)
    columns = [Column("Method")]
    for dataset in datasets:
        for classifier in classifiers:
            name = f"{dataset_title(dataset, groups.get(dataset))} {classifier_title(classifier)}"
            columns.append(Column(name, "higher"))
            if with_epochs:
                columns += [Column(f"{name} best epoch"), Column(f"{name} final epoch")]
    rows: list[list[Cell]] = []
    for method in _methods(chosen):
        row: list[Cell] = [method.title]
        for dataset in datasets:
            mine = [r for r in chosen if r.method == method.name and r.dataset == dataset]
            for classifier in classifiers:
                runs = [r for r in mine if classifier in r.accuracy]
                row += _split_cell(_cell_value(runs, classifier)[0] if runs else None, with_epochs)
        if any(cell is not None for cell in row[1:]):
            rows.append(row)
    if not rows:
        return None
    notes = [f"{shots}-shot. {STATISTIC_NOTE} Best in bold.", protocol_note(chosen), *warning_notes(chosen)]
    table = Table(key, f"Tab. 2 — accuracy, {shots}-shot", columns, rows, notes)
    _add_dataset_references(table, chosen, datasets, classifiers, with_epochs)
    return table


STATISTIC_NOTE = (
    "Statistic: under train.protocol=authors, the paper's: the per-epoch macro accuracy (on each epoch's "
    "evaluation draws) averaged over the trials, and the best epoch of that mean curve (± sample std over trials "
    "at that epoch), with that epoch and the mean curve's final epoch beside it; the epoch is chosen on the "
    "evaluation data, as the authors' plotting does, so it flatters every method alike. Under fast (opt-in), the "
    "mean (± sample std) over trials of the final-epoch accuracy, with no epoch columns."
)


def _add_dataset_references(
    table: Table, records: Sequence[RunRecord], datasets: Sequence[str], classifiers: Sequence[str],
    with_epochs: bool,
) -> None:
    """The real-only and zero-shot rows of Tab. 2: per dataset and classifier, over trials; the real-only row in
    the same statistic as the methods' rows (its epoch curve when it has one)."""
    details = [load_run_accuracy(record) for record in records]
    for position, title in enumerate((REAL_ONLY, ZERO_SHOT)):
        row: list[Cell] = [title]
        for dataset in datasets:
            for classifier in classifiers:
                cell = _reference_cell(details, classifier, dataset, real_only=position == 0)
                row += _split_cell(cell, with_epochs)
        if any(cell is not None for cell in row[1:]):
            table.references.add(len(table.rows))
            table.rows.append(row)
    if table.references:
        table.notes.append(REFERENCE_NOTE)


def _reference_cell(
    details: Sequence[RunAccuracy], classifier: str, dataset: str, real_only: bool
) -> Summary | CurveBest | None:
    """One dataset's real-only (or zero-shot) reference over its trials, one value per (shots, trial)."""
    mine = [item for item in details if item.record.dataset == dataset]
    if real_only:
        curves: dict[TrialKey, dict[int, float]] = {}
        for item in mine:
            reference = item.real_only.get(classifier)
            if reference is not None:
                curves.setdefault(_trial_key(item.record), epoch_curve(reference))
        best = trial_mean_best([curves[key] for key in sorted(curves)])
        if best is not None:
            return best
    values = reference_values(mine, classifier)[0 if real_only else 1]
    return summarize([value for _, value in sorted(values.items())])


REFERENCE_NOTE = (
    "Reference rows (italic, never bold): real images only = each classifier trained on the run's real images "
    "alone (results/real_only/, train.real_only_reference; one fit per dataset, shots, trial and classifier in a "
    "grid), zero-shot CLIP = the untrained CLIP head (results files' zero_shot_clip_*, final epoch), in each "
    "column's accuracy; one value per dataset, shots and trial."
)


def warning_notes(records: Sequence[RunRecord], base: Path | None = None) -> list[str]:
    """One note per warning a results file carries (one class, classes never evaluated, accuracy at chance
    level), naming the run and classifier: such an accuracy is in the table but must not be read as usual."""
    notes = []
    for record in records:
        name = run_label(record, base) if base is not None else f"{record.dataset} {record.method} trial {record.trial}"
        for classifier, found in sorted(record.warnings.items()):
            notes += [f"WARNING {name}, {classifier_title(classifier)}: {warning}" for warning in found]
    return notes


def protocol_note(records: Sequence[RunRecord], statistic: str = "as stated above") -> str:
    """Which protocol (train.protocol) made the accuracies, and which accuracy that is; warns when they mix."""
    used = sorted({protocol for record in records for protocol in record.protocol.values()})
    text = (
        "Protocol (train.protocol: accuracy): " + (", ".join(used) or "none")
        + f"; authors (default): macro accuracy (mean of per-class accuracies), fast (opt-in): micro accuracy; "
        f"statistic: {statistic} (docs/protocol.md)."
    )
    if any(protocol.startswith("fast") for protocol in used):
        text += " fast numbers are not the paper's protocol or statistic."
    if len(used) > 1:
        text += " These numbers come from different protocols and are not comparable with each other."
    return text


def _group_records(
    records: Sequence[RunRecord], shots: int, groups: dict[str, DatasetGroup]
) -> dict[str, list[RunRecord]]:
    pooled: dict[str, list[RunRecord]] = {}
    for name in ("HC", "LC"):
        members = {dataset for dataset, group in groups.items() if group.group == name}
        chosen = [r for r in records if r.shots == shots and r.dataset in members]
        if chosen:
            pooled[name] = chosen
    return pooled


def group_table(
    records: Sequence[RunRecord], shots: int, groups: dict[str, DatasetGroup], threshold: float, key: str
) -> Table | None:
    """Tab. 3: accuracy per CLIPScore group, mean ± std over every (dataset, trial) run of the group, each run's
    value in its Tab. 2 cell's statistic (:func:`run_values`)."""
    pooled = _group_records(records, shots, groups)
    if not pooled:
        return None
    everything = [r for chosen in pooled.values() for r in chosen]
    classifiers = classifiers_in_figure_order(everything)
    values = {classifier: run_values(everything, classifier) for classifier in classifiers}
    columns = [Column("Method")] + [
        Column(f"{group} {classifier_title(c)}", "higher") for group in pooled for c in classifiers
    ]
    rows: list[list[Cell]] = []
    for method in _methods(everything):
        row: list[Cell] = [method.title]
        for chosen in pooled.values():
            mine = [r for r in chosen if r.method == method.name]
            row += [summarize([values[c][r.root] for r in mine if r.root in values[c]]) for c in classifiers]
        if any(cell is not None for cell in row[1:]):
            rows.append(row)
    members = "; ".join(
        f"{name}: {', '.join(sorted({r.dataset for r in chosen}))}" for name, chosen in pooled.items()
    )
    notes = [
        f"{shots}-shot; mean ± sample std over every (dataset, trial) run of the group ({members}); each run's "
        "value is its accuracy at its dataset's Tab. 2 best epoch (authors) or its final-epoch accuracy (fast).",
        f"Groups by dataset mean CLIPScore: HC if >= {threshold:g}, else LC.",
        protocol_note(everything, "best epoch of the trial-mean curve per dataset (authors), final epoch (fast)"),
    ]
    return Table(key, f"Tab. 3 — accuracy by CLIPScore group, {shots}-shot", columns, rows, notes)


PairKey = tuple[str, int, int]
"""(dataset, trial, shots): the runs of two methods that share it share their split and seed, so they pair."""


def _by_pair(records: Sequence[RunRecord], values: dict[Path, float]) -> dict[PairKey, float]:
    """Each matched key's value (the mean when one key has several runs of the method)."""
    found: dict[PairKey, list[float]] = defaultdict(list)
    for record in records:
        if record.root in values:
            found[(record.dataset, record.trial, record.shots)].append(values[record.root])
    return {key: float(np.mean(items, dtype=np.float64)) for key, items in found.items()}


def ttest_table(
    records: Sequence[RunRecord], shots: int, groups: dict[str, DatasetGroup], key: str
) -> Table | None:
    """Paired tests of DALDA against each other method, per group and classifier, over the (dataset, trial, shots)
    keys both methods ran.

    Each method is compared with DALDA's recipe under its own prompt source where that run exists
    (:func:`dalda.methods.reference_for`: ``template-rs`` against ``template-ags``), so a grid whose prompts
    no LLM wrote is still tested against DALDA's recipe; the "Reference" column names the run compared with.
    """
    pooled = _group_records(records, shots, groups)
    everything = [r for chosen in pooled.values() for r in chosen]
    columns = [
        Column("Group"), Column("Classifier"), Column("Method"),
        Column("reference mean"), Column("method mean"), Column("mean difference"),
        Column("paired t", digits=3), Column("t-test p"), Column("Wilcoxon W", digits=1), Column("Wilcoxon p"),
        Column("pairs"), Column("Reference"),
    ]  # fmt: skip
    rows: list[list[Cell]] = []
    references: dict[str, MethodLabel] = {}
    for group, chosen in pooled.items():
        present = [record.label for record in chosen]
        for classifier in classifiers_in_figure_order(chosen):
            values = run_values(chosen, classifier)
            for method in _methods(chosen):
                versus = reference_for(present, method.prompt_source)
                if versus is None or method.name == versus.name:
                    continue  # no reference in the group, or the method is a reference itself
                mine = _by_pair([r for r in chosen if r.method == versus.name], values)
                theirs = _by_pair([r for r in chosen if r.method == method.name], values)
                matched = sorted(set(mine) & set(theirs))
                if not matched:
                    continue
                test = paired_test([mine[k] for k in matched], [theirs[k] for k in matched])
                references[versus.name] = versus
                rows.append([
                    group, classifier_title(classifier), method.title,
                    test.mean_a, test.mean_b, test.difference, test.t_statistic, test.t_pvalue,
                    test.wilcoxon_statistic, test.wilcoxon_pvalue, test.n_pairs, versus.title,
                ])  # fmt: skip
    if not rows:
        return None
    against = " / ".join(label.title for label in sorted(references.values(), key=lambda label: label.sort_key))
    notes = [
        f"Paired two-sided tests of {against} against each method over the runs both made for the same dataset, "
        "trial and shots (the same split and seed): the paired t-test (scipy.stats.ttest_rel) and the Wilcoxon "
        "signed-rank test (scipy.stats.wilcoxon); mean difference = reference - method over the pairs. Each run's "
        "value is its Tab. 3 value. Each method is compared with the reference written by the same prompt source "
        "where one exists. n/a: fewer than two pairs, or (Wilcoxon) no non-zero difference.",
        protocol_note(everything, "best epoch of the trial-mean curve per dataset (authors), final epoch (fast)"),
    ]
    return Table(key, f"Tab. 3 — paired tests against {against}, {shots}-shot", columns, rows, notes)


def runs_table(records: Sequence[RunRecord], base: Path, key: str) -> Table | None:
    """Every run with its own numbers (no averaging): the single-run report's accuracy table, and an index."""
    if not records:
        return None
    classifiers = classifiers_of(records)
    columns = [Column("Run"), Column("Dataset"), Column("Method"), Column("Shots"), Column("Trial")]
    columns += [Column(classifier_title(c)) for c in classifiers]
    diversity = diversity_columns(records)
    columns += [Column(title) for title, _, _ in diversity]
    best = [c for c in classifiers if any(c in record.best_epoch_accuracy for record in records)]
    columns += [Column("Protocol")] + [Column(f"{classifier_title(c)} best epoch†") for c in best]
    gained = [c for c in classifiers if any(c in record.gain for record in records)]
    for classifier in gained:
        title = classifier_title(classifier)
        columns += [Column(f"{title} gain over real only‡"), Column(f"{title} gain CI low"),
                    Column(f"{title} gain CI high"), Column(f"{title} McNemar p")]  # fmt: skip
    rows: list[list[Cell]] = []
    table_references: set[int] = set()
    ordered = sorted(records, key=lambda r: (r.dataset, r.shots, r.trial, r.label.sort_key))
    for record in ordered:
        rows.append(
            [run_label(record, base), record.dataset, record.method, record.shots, record.trial]
            + [record.accuracy.get(c) for c in classifiers]
            + [value(record) for _, value, _ in diversity]
            + ["; ".join(f"{c} {p}" for c, p in sorted(record.protocol.items())) or None]
            + [record.best_epoch_accuracy.get(c) for c in best]
            + [value for c in gained for value in _gain_cells(record.gain.get(c))]
        )
    notes = ["Each run's own values, as read from its results files.", protocol_note(records, "each run's final epoch")]
    notes += warning_notes(ordered, base)
    details = [load_run_accuracy(record) for record in ordered]
    values = {classifier: reference_values(details, classifier) for classifier in classifiers}
    padding: list[Cell] = [None] * (len(diversity) + 1 + len(best) + 4 * len(gained))
    for dataset, shots, trial in trial_keys(details):
        for position, (title, method) in enumerate(((REAL_ONLY, REAL_ONLY_METHOD), (ZERO_SHOT, ZERO_SHOT_METHOD))):
            cells = [values[c][position].get((dataset, shots, trial)) for c in classifiers]
            if any(cell is not None for cell in cells):
                rows.append([title, dataset, method, shots, trial, *cells, *padding])
                table_references.add(len(rows) - 1)
    if table_references:
        notes.append(REFERENCE_NOTE)
    if best:
        notes.append(
            "† authors protocol: macro accuracy of the best epoch, chosen on the evaluation split itself (as the "
            "authors' plotting script does), so optimistic; the accuracy columns are the final epoch."
        )
    if gained:
        notes.append(GAIN_NOTE)
    return Table(key, "Runs", columns, rows, notes, table_references)


GAIN_NOTE = (
    "‡ the run's final-epoch accuracy minus its real-only reference's on the same evaluation images, with a 95% "
    "paired bootstrap interval over evaluation images (both accuracies recomputed on each resample) and McNemar's "
    "exact test on the images only one of the two classifies right (results file: gain_over_real_only)."
)


def gain_sentence(gain: dict) -> str:
    """One line for a run's section: its gain over real only, the interval and McNemar's p (``GAIN_NOTE``)."""
    return (
        f"Gain over real images only: {gain['gain']:+.4f} ({gain['metric']} accuracy; "
        f"{gain['confidence']:.0%} paired bootstrap interval over evaluation images {gain['ci_low']:+.4f} to "
        f"{gain['ci_high']:+.4f}, {gain['resamples']} resamples); McNemar's exact test p = "
        f"{gain['mcnemar_pvalue']:.3g} ({gain['only_run_correct']} images right only with the synthetic images, "
        f"{gain['only_reference_correct']} only without)."
    )


def _gain_cells(gain: dict | None) -> list[Cell]:
    """(gain, interval low, interval high, McNemar p) of a results file's ``gain_over_real_only``."""
    if not gain:
        return [None] * 4
    return [_number(gain.get(name)) for name in ("gain", "ci_low", "ci_high", "mcnemar_pvalue")]


# ------------------------------------------------------------------------------------- per-class accuracy

PER_CLASS_HEADERS = (
    "Class", "Eval images", "Real only (reference)", "Zero-shot CLIP (reference)", "This run", "Gain over real only",
)  # fmt: skip


@dataclass(frozen=True)
class ClassRow:
    name: str
    count: int | None
    real_only: float | None
    zero_shot: float | None
    run: float | None

    @property
    def gain(self) -> float | None:
        return None if self.run is None or self.real_only is None else self.run - self.real_only

    def cells(self) -> list[str | int | float | None]:
        return [self.name, self.count, self.real_only, self.zero_shot, self.run, self.gain]


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def per_class_rows(details: RunAccuracy, classifier: str) -> list[ClassRow]:
    """One row per class of ``classifier``'s results file (empty when it stores no per-class accuracy)."""
    result = details.results.get(classifier)
    if result is None or not result.per_class_accuracy:
        return []
    reference = details.real_only.get(classifier)
    real = (reference.per_class_accuracy or {}) if reference is not None else {}
    zero = details.zero_shot_per_class(classifier)
    counts = result.per_class_count or {}
    names = list(result.classes or result.per_class_accuracy)
    return [
        ClassRow(name, counts.get(name), _number(real.get(name)), _number(zero.get(name)),
                 _number(result.per_class_accuracy.get(name)))
        for name in names
    ]  # fmt: skip


def per_class_csv(rows: list[ClassRow]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(PER_CLASS_HEADERS)
    for row in rows:
        cells = row.cells()
        writer.writerow(["" if cell is None else repr(cell) if isinstance(cell, float) else cell for cell in cells])
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------- confusions

TOP_CONFUSIONS = 15


@dataclass(frozen=True)
class Confusion:
    true: str
    predicted: str
    count: int
    share: float
    """count / evaluation images of the true class."""


def top_confusions(matrix: list[list[int]], classes: list[str], limit: int | None = TOP_CONFUSIONS) -> list[Confusion]:
    """Off-diagonal cells with a count, largest first (ties: class order of the true, then predicted class)."""
    counts = np.asarray(matrix, dtype=np.int64)
    if counts.shape != (len(classes), len(classes)):
        raise ValueError(f"a confusion matrix of shape {counts.shape} does not fit {len(classes)} classes")
    totals = counts.sum(axis=1)
    found = [
        Confusion(classes[i], classes[j], int(counts[i, j]), float(counts[i, j] / totals[i]))
        for i in range(len(classes))
        for j in range(len(classes))
        if i != j and counts[i, j] > 0
    ]
    found.sort(key=lambda c: -c.count)  # stable: class order breaks ties
    return found if limit is None else found[:limit]


def confusions_csv(confusions: list[Confusion]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["True class", "Predicted class", "Count", "Share of true class"])
    for c in confusions:
        writer.writerow([c.true, c.predicted, c.count, repr(c.share)])
    return buffer.getvalue()
