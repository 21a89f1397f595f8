"""The run directory: where each stage reads its inputs and writes its outputs.

Every path a stage uses is named here once, so the layout documented in ``docs/usage.md`` ("Run directory") is the
layout the code writes, and any stage can be re-run or inspected alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MANIFEST_NAME = "manifest.jsonl"
"""Today's name of the generation manifest in ``synthetic/`` (:attr:`RunDir.manifest`)."""


@dataclass(frozen=True)
class RunDir:
    root: Path

    @property
    def marker(self) -> Path:
        """The run marker (dalda version, creation time): dalda writes only into folders that carry it."""
        return self.root / ".dalda-run.json"

    @property
    def lock(self) -> Path:
        """The lock every command that writes the run holds."""
        return self.root / ".dalda-run.lock"

    @property
    def lock_owner(self) -> Path:
        """Who holds :attr:`lock` now (pid, command, start); removed when the command ends."""
        return self.root / ".dalda-run.owner.json"

    @property
    def history(self) -> Path:
        """Every command and every stage it finished, one JSON line each."""
        return self.root / "history.jsonl"

    @property
    def config(self) -> Path:
        return self.root / "config.yaml"

    @property
    def tracker_runs(self) -> Path:
        """The id of the run each experiment tracker keeps for this run (``tracking.backend``), so every stage
        logs into the same one."""
        return self.root / "tracker-runs.json"

    @property
    def provenance(self) -> Path:
        """What each stage ran with: models and their commits, software versions, GPUs, host, command line."""
        return self.root / "provenance.json"

    @property
    def data_cache(self) -> Path:
        """Where built-in datasets (the demo) are materialised when no data.root is given."""
        return self.root / "data"

    @property
    def split(self) -> Path:
        return self.root / "split.json"

    @property
    def scores(self) -> Path:
        return self.root / "scores.jsonl"

    @property
    def score_histogram(self) -> Path:
        return self.root / "clipscore_hist.png"

    @property
    def prompts(self) -> Path:
        return self.root / "prompts.json"

    @property
    def prompts_record(self) -> Path:
        return self.root / "prompts_record.json"

    @property
    def prompts_record_pending(self) -> Path:
        """An LLM run's record while it is under way beside a complete record, which it replaces only on success."""
        return self.root / "prompts_record.pending.json"

    @property
    def plan(self) -> Path:
        return self.root / "plan.jsonl"

    @property
    def planned_method(self) -> Path:
        """The method that made the plan, recorded with it (``dalda.artefacts.MethodRecord``)."""
        return self.root / "method.json"

    @property
    def synthetic(self) -> Path:
        return self.root / "synthetic"

    @property
    def manifest(self) -> Path:
        """The generation manifest, one JSON line per finished image (``dalda.artefacts.ManifestLine``):
        ``synthetic/manifest.jsonl``. A run made before the manifest took that name holds only
        ``synthetic/metadata.jsonl`` (:attr:`legacy_manifest`); that file is read until the next ``dalda generate``
        renames it (``dalda.generation.manifest.consolidate``)."""
        current = self.synthetic / MANIFEST_NAME
        if not current.is_file() and self.legacy_manifest.is_file():
            return self.legacy_manifest
        return current

    @property
    def legacy_manifest(self) -> Path:
        """Where runs made by earlier versions keep the manifest. It cannot stay there: ``datasets`` refuses a
        folder whose metadata files have two formats, and :attr:`imagefolder_metadata` is Parquet."""
        return self.synthetic / "metadata.jsonl"

    @property
    def imagefolder_metadata(self) -> Path:
        """The manifest as ``imagefolder`` metadata with ``label`` a ``ClassLabel`` (``dalda.generation.imagefolder``),
        so ``datasets.load_dataset("imagefolder", data_dir=RUN/synthetic)`` loads dalda's class names."""
        return self.synthetic / "metadata.parquet"

    @property
    def classes(self) -> Path:
        """dalda's class order (``names`` and ``class_to_idx``); a copy sits in ``synthetic/classes.json``."""
        return self.root / "classes.json"

    @property
    def filter_decisions(self) -> Path:
        """The filter stage's decision and numbers per synthetic image."""
        return self.synthetic / "filter.jsonl"

    @property
    def curation(self) -> Path:
        """A person's accept / reject of synthetic images (``dalda curate``), overriding the filter's."""
        return self.synthetic / "curation.jsonl"

    @property
    def manifest_parts(self) -> Path:
        """Per-process manifest parts while several processes generate (hidden: ``datasets`` ignores it)."""
        return self.synthetic / ".parts"

    @property
    def textual_inversion(self) -> Path:
        """The generator's one-off preparation (``Generator.preparation``): DA-Fusion's learned class tokens, one
        safetensors file per class (the only generator that prepares anything, hence the folder's name)."""
        return self.root / "textual_inversion"

    @property
    def features(self) -> Path:
        return self.root / "features"

    @property
    def results(self) -> Path:
        return self.root / "results"

    def checkpoint_file(self, classifier: str) -> Path:
        """A trained classifier's head (and fine-tuned backbone) with its training record."""
        return self.results / f"{classifier}_head.pt"

    def train_record_file(self, classifier: str) -> Path:
        """The training record of a classifier as readable JSON (the checkpoint holds the same record)."""
        return self.results / f"{classifier}_train.json"

    def result_file(self, classifier: str) -> Path:
        """One classifier's evaluation: a row of the paper's tables."""
        return self.results / f"{classifier}.json"

    @property
    def real_only_results(self) -> Path:
        """The real-only reference classifiers trained beside the run's own (``train.real_only_reference``)."""
        return self.results / "real_only"

    def reference_checkpoint_file(self, classifier: str) -> Path:
        return self.real_only_results / f"{classifier}_head.pt"

    def reference_train_record_file(self, classifier: str) -> Path:
        return self.real_only_results / f"{classifier}_train.json"

    def reference_result_file(self, classifier: str) -> Path:
        """The real-only reference's evaluation, in the format of ``result_file``."""
        return self.real_only_results / f"{classifier}.json"

    @property
    def diversity(self) -> Path:
        return self.root / "diversity.json"

    @property
    def cell(self) -> Path:
        """Which grid cell of an experiment this run is (written by the experiment runner only)."""
        return self.root / "cell.json"

    @property
    def report(self) -> Path:
        return self.root / "report"

    def ensure(self) -> RunDir:
        self.root.mkdir(parents=True, exist_ok=True)
        return self
