"""The experiment grid: one YAML file naming datasets x methods x shots x trials (x classifiers) to run.

Example::

    name: tab2
    out_dir: runs/paper
    base: {train: {epochs: 50}}            # DaldaConfig values shared by every cell
    datasets: [pets, {name: flowers102, root: data/flowers102}]
    methods:
      - llm-ags                            # a method name (dalda/methods.py)
      - {name: llm-ags-m5, method: llm-ags, overrides: {prompts: {num_prompts: 5}}}   # a variant
    shots: [1]
    trials: [0, 1, 2]
    classifiers: [resnet50, clip]
    overrides: {da-fusion: {generator: {strengths: [0.5]}}}   # per method name
    tiny:                                  # applied with --models tiny: offline demo in minutes on a CPU
      datasets: [demo]
      base: {generator: {resolution: 64, steps: 2}}
      overrides: {da-fusion: {generator: {ti_steps: 2}}}
    slurm: {partition: gpu, gpus_per_task: 1, time_min: 600, sbatch: {account: proj1}}   # --launcher slurm

A cell's config is, from weakest to strongest: defaults, ``base``, ``tiny.base`` (tiny only), the dataset
entry's data values, the method's own values, the method entry's ``overrides``, ``overrides[<method>]``
(with ``tiny.overrides[<method>]`` over it), then the cell's own coordinates (dataset, shots, trial,
classifiers, out_dir) and ``models.profile``.
Every cell config is built and validated before anything runs, so a typo fails at once, not hours later.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from dalda.config import ConfigError, DaldaConfig
from dalda.configure import build_config
from dalda.experiments.shared_artefacts import SharedStore
from dalda.methods import find_method, get_method, method_of
from dalda.pipeline import stages_for


class ExperimentSpecError(ValueError):
    """The grid file is invalid; the message names the file and the value to fix."""


def canonical_name(name: str) -> str:
    """A method name in the spelling its runs are labelled with (``llm-fixed-0.50`` -> ``llm-fixed-0.5``); a name
    that names no method (an alias) as written."""
    found = find_method(name)
    return name if found is None else found.name


def path_component_problem(name: str) -> str | None:
    """Why ``name`` cannot be one folder name inside ``out_dir`` (None when it can): empty, a path separator,
    ``.``/``..``, an absolute path, or a control character would write run directories elsewhere."""
    if not name.strip():
        return "is empty"
    if "/" in name or "\\" in name:
        return "contains a path separator"
    if name in (".", ".."):
        return "is not a folder name"
    if any(ord(char) < 32 or ord(char) == 127 for char in name):
        return "contains a control character"
    if len(name.encode("utf-8")) > 200:
        return "is longer than 200 bytes"
    return None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DatasetEntry(BaseModel):
    """A dataset of the grid: ``name`` is ``data.dataset``; any other key is a ``data`` value (root, ...)."""

    model_config = ConfigDict(extra="allow")
    name: str
    label: str | None = Field(None, description="Folder and table name; default: name.")

    @property
    def key(self) -> str:
        return self.label or self.name

    @property
    def data(self) -> dict[str, Any]:
        return {"dataset": self.name, **(self.model_extra or {})}


class MethodEntry(_Strict):
    """A method of the grid: a method (``dalda.methods.get_method``) under its own name, optionally with config
    overrides."""

    name: str
    method: str | None = Field(None, description="The method this entry runs; default: name.")
    overrides: dict[str, Any] = Field(default_factory=dict)

    @property
    def method_name(self) -> str:
        return canonical_name(self.method or self.name)


class TinyBlock(_Strict):
    """Replacements for an offline run (``--models tiny``): any grid axis, the out_dir, extra base values and
    extra per-method overrides (a generator's own settings, such as DA-Fusion's ``ti_steps``, belong there:
    in ``base`` they would be another generator's settings in every other cell)."""

    out_dir: Path | None = None
    datasets: list[str | DatasetEntry] | None = None
    methods: list[str | MethodEntry] | None = None
    shots: list[int] | None = None
    trials: list[int] | None = None
    classifiers: list[str] | None = None
    base: dict[str, Any] = Field(default_factory=dict)
    overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)


class SlurmBlock(_Strict):
    """How ``dalda experiment GRID --launcher slurm`` asks Slurm for each cell (flags override these)."""

    partition: str | None = None
    gpus_per_task: int = Field(1, ge=0)
    cpus_per_task: int = Field(8, ge=1)
    time_min: int = Field(240, ge=1, description="Wall-clock limit of one cell's job, in minutes.")
    mem_gb: float | None = Field(None, gt=0)
    array_parallelism: int | None = Field(None, ge=1, description="Most array tasks running at once.")
    sbatch: dict[str, str | int] = Field(
        default_factory=dict, description="Extra sbatch options, e.g. {account: proj1, qos: normal}."
    )
    setup: list[str] = Field(default_factory=list, description="Shell lines run before each task (module load ...).")


class ExperimentSpec(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9._-]+$")
    description: str = ""
    out_dir: Path
    base: dict[str, Any] = Field(default_factory=dict)
    datasets: list[str | DatasetEntry]
    methods: list[str | MethodEntry]
    shots: list[int] = Field(default_factory=lambda: [1])
    trials: list[int] = Field(default_factory=lambda: [0])
    classifiers: list[str] = Field(default_factory=lambda: ["resnet50", "clip"])
    overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)
    tiny: TinyBlock | None = None
    report: bool = Field(True, description="Write the experiment's report when the grid is done.")
    slurm: SlurmBlock = Field(default_factory=SlurmBlock)

    @model_validator(mode="after")
    def _axes_valid(self) -> ExperimentSpec:
        for axis in ("datasets", "methods", "shots", "trials", "classifiers"):
            if not getattr(self, axis):
                raise ValueError(f"{axis} is empty; list at least one")
        if min(self.shots) < 1 or min(self.trials) < 0:
            raise ValueError(f"shots must be >= 1 and trials >= 0, got shots={self.shots} trials={self.trials}")
        for what, names in (("dataset", self.dataset_entries()), ("method", self.method_entries())):
            keys = [entry.key if what == "dataset" else entry.name for entry in names]
            for index, key in enumerate(keys):
                problem = path_component_problem(key)
                if problem:
                    field = "label (or name)" if what == "dataset" else "name"
                    raise ValueError(
                        f"{what}s[{index}] {field} {key!r} {problem}; it names a folder under out_dir, so use "
                        "letters, digits, spaces, '.', '-' or '_'"
                    )
            repeated = sorted({key for key in keys if keys.count(key) > 1})
            if repeated:
                raise ValueError(f"{what} names must be unique, repeated: {repeated} (give variants their own name)")
        unknown = sorted({canonical_name(n) for n in self.overrides} - {entry.name for entry in self.method_entries()})
        if unknown:
            raise ValueError(f"overrides name methods that are not in the grid: {unknown}")
        return self

    def dataset_entries(self) -> list[DatasetEntry]:
        return [DatasetEntry(name=entry) if isinstance(entry, str) else entry for entry in self.datasets]

    def method_entries(self) -> list[MethodEntry]:
        """Entries with method names in their canonical spelling (``llm-fixed-0.50`` -> ``llm-fixed-0.5``)."""
        entries = [MethodEntry(name=entry) if isinstance(entry, str) else entry for entry in self.methods]
        return [
            entry.model_copy(update={"name": canonical_name(entry.name)}) if entry.method is None else entry
            for entry in entries
        ]


@dataclass(frozen=True)
class Cell:
    """One run of the grid: (dataset, shots, trial, method) with its resolved config."""

    dataset: str
    shots: int
    trial: int
    method: str
    config: DaldaConfig
    stages: tuple[str, ...]

    @property
    def key(self) -> str:
        return f"{self.dataset}/{self.shots}shot/trial{self.trial}/{self.method}"


def cell_dir(out_dir: Path, dataset: str, shots: int, trial: int, method: str) -> Path:
    return Path(out_dir) / dataset / f"{shots}shot" / f"trial{trial}" / method


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``extra`` over ``base``, recursing into mappings (a new dict; inputs are not changed)."""
    merged = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def load_spec(path: Path, models_profile: str | None = None) -> ExperimentSpec:
    """Read and validate a grid file; with ``models_profile="tiny"`` its ``tiny`` block replaces what it names."""
    path = Path(path)
    if not path.is_file():
        raise ExperimentSpecError(f"experiment file {path} does not exist")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise ExperimentSpecError(f"experiment file {path} is not valid YAML: {error}") from None
    if not isinstance(raw, dict):
        raise ExperimentSpecError(f"experiment file {path} must hold a mapping (name, out_dir, datasets, ...)")
    try:
        spec = ExperimentSpec.model_validate(raw)
        if models_profile == "tiny" and spec.tiny is not None:
            tiny = spec.tiny
            replaced = {
                key: value for key, value in tiny.model_dump(exclude={"base", "overrides"}).items() if value is not None
            }
            merged = {"base": deep_merge(spec.base, tiny.base), "overrides": deep_merge(spec.overrides, tiny.overrides)}
            values = spec.model_dump() | replaced | merged
            spec = ExperimentSpec.model_validate(values)
    except ValidationError as error:
        details = "; ".join(
            f"{'.'.join(str(p) for p in item['loc']) or 'file'}: {item['msg'].removeprefix('Value error, ')}"
            for item in error.errors()
        )
        raise ExperimentSpecError(f"experiment file {path} is invalid: {details}") from None
    return spec


def build_cells(spec: ExperimentSpec, out_dir: Path, models_profile: str | None = None) -> list[Cell]:
    """Every cell in run order (dataset, shots, trial, then methods as listed), each config validated.

    A cell whose values contradict its method (say, an override that turns ``llm-ags`` into random scaling)
    is an error: the run directory's name would lie about what it holds.
    """
    cells = []
    for dataset in spec.dataset_entries():
        for shots in spec.shots:
            for trial in spec.trials:
                for entry in spec.method_entries():
                    try:
                        method = get_method(entry.method_name)
                    except ValueError as error:
                        raise ExperimentSpecError(f"method {entry.name!r}: {error}") from None
                    values = deep_merge(spec.base, {"data": dataset.data})
                    named = {canonical_name(name): values for name, values in spec.overrides.items()}
                    for layer in (method.overrides, entry.overrides, named.get(entry.name, {})):
                        values = deep_merge(values, layer)
                    coordinates: dict[str, Any] = {
                        "out_dir": str(cell_dir(out_dir, dataset.key, shots, trial, entry.name)),
                        "data": {"shots": shots, "trial": trial},
                        "train": {"classifiers": list(spec.classifiers)},
                    }
                    if models_profile is not None:
                        coordinates["models"] = {"profile": models_profile}
                    values = deep_merge(values, coordinates)
                    if values["data"]["dataset"] == "demo" and not values["data"].get("root"):
                        values["data"]["root"] = str(SharedStore(out_dir).demo_root)  # drawn once for all cells
                    key = f"{dataset.key}/{shots}shot/trial{trial}/{entry.name}"
                    try:
                        config = build_config(values)
                    except ConfigError as error:
                        raise ExperimentSpecError(f"cell {key}: {error}") from None
                    runs = method_of(config).name
                    if runs != method.name:
                        raise ExperimentSpecError(
                            f"cell {key}: the overrides make it run {runs!r}, not {method.name!r}; "
                            "remove the conflicting override or name the method it runs"
                        )
                    stages = tuple(stage for stage in stages_for(config) if stage != "report")  # + filter
                    cells.append(Cell(dataset.key, shots, trial, entry.name, config, stages))
    return cells
