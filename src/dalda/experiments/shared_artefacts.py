"""Work that cells of a grid share instead of redoing: demo images, splits, CLIPScores, prompts, the generator's
preparation, feature caches.

Everything lives under ``<out_dir>/_shared/``::

    data/demo/                                   the demo dataset, drawn once
    <dataset>/features/                          feature caches; each cell's features/ links here
    <dataset>/prompts-<digest>/                  prompts.json + prompts_record.json
    <dataset>/<shots>shot/trial<t>/split-<digest>/split.json
    <dataset>/<shots>shot/trial<t>/scores-<digest>/scores.jsonl
    <dataset>/<shots>shot/trial<t>/generator_preparation-<digest>/textual_inversion/<class>.safetensors
    <dataset>/<shots>shot/trial<t>/real-only_references-<digest>/<classifier>_head.pt, <classifier>_train.json
    creations.jsonl                              one line per artefact stored: which cell made it, when

Which artefacts are shared, their files and what each depends on is the artefact table
(``dalda.artefacts.table``: the entries with a ``shared`` key). A stored file is keyed by a digest of the config
sections its content depends on (``SharedKey.digest``), so a cell only ever gets a file made under the same
settings (methods differ in prompts and guidance, never in the split). Prompts depend on the dataset's classes,
not on shots or trial, so every shot count and trial of a dataset uses the same prompts, and an LLM is asked
once per dataset. The generator's one-off preparation (``Generator.preparation``: DA-Fusion's class tokens) is
keyed by the whole ``generator`` section, whatever the generator. The real-only reference classifiers
(``train.real_only_reference``) depend on the split, models, seed and training settings but not on the method, so
one fit per (dataset, shots, trial, classifier, protocol) serves every method cell that draws synthetic images
(a cell with none is its own reference and takes none). The stages validate what they reuse as well
(the split's dataset/shots/trial, the scores' model and image hashes, the prompts' settings, each class token's
fingerprint), so a stale file is redone, never silently used. Feature caches are keyed by backbone and image
content inside the file (``dalda.probes.features``), so one folder per dataset serves every cell of it.

Files are copied (not linked) into a cell before it runs and copied back after it, so a cell directory stays
complete on its own and deleting ``_shared`` loses nothing but time.

Cells of one grid may run at the same time (``--shard``, Slurm array tasks) on a shared filesystem. The runner
makes each artefact while holding ``<artefact folder>.lock`` (:meth:`SharedStore.lock`): a second cell that
needs it waits, then copies the stored one instead of computing it again. An artefact is published by writing
its files into a temporary sibling folder and renaming that folder into place, so a reader sees the whole
artefact or none of it, and a killed writer leaves only a hidden temporary folder behind.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from filelock import FileLock

from dalda.artefacts import SHARED_ARTEFACTS, Artefact, SharedKey
from dalda.config import DaldaConfig
from dalda.io import append_jsonl, atomic_open, file_lock, read_jsonl, temporary_folder
from dalda.rundir import RunDir

SHARED_DIR = "_shared"


def _key(artefact: Artefact) -> SharedKey:
    if artefact.shared is None:
        raise ValueError(f"the {artefact.name} are not shared between cells (no shared key in the artefact table)")
    return artefact.shared


def _copy(source: Path, dest: Path) -> None:
    """Copy a file (atomically) or a folder's files (each atomically) to ``dest``."""
    if source.is_dir():
        for item in sorted(source.iterdir()):
            _copy(item, dest / item.name)
        return
    with atomic_open(dest, "wb") as handle:
        handle.write(source.read_bytes())


def _present(path: Path) -> bool:
    """A file, or a folder holding at least one file."""
    return path.is_file() or (path.is_dir() and any(item.is_file() for item in path.iterdir()))


@dataclass(frozen=True)
class SharedStore:
    out_dir: Path

    @property
    def root(self) -> Path:
        return Path(self.out_dir) / SHARED_DIR

    @property
    def demo_root(self) -> Path:
        return self.root / "data" / "demo"

    def features(self, dataset: str) -> Path:
        return self.root / dataset / "features"

    def folder(self, artefact: Artefact, dataset: str, config: DaldaConfig) -> Path:
        key = _key(artefact)
        base = self.root / dataset
        if key.per_trial:
            base = base / f"{config.data.shots}shot" / f"trial{config.data.trial}"
        return base / f"{artefact.slug}-{key.digest(config)}"

    @property
    def creations(self) -> Path:
        """One JSON line per artefact stored (artefact, folder, cell, time): proof that each was made once."""
        return self.root / "creations.jsonl"

    def lock(self, artefact: Artefact, dataset: str, config: DaldaConfig) -> FileLock:
        """The lock a cell holds while it makes (or waits for) this artefact."""
        folder = self.folder(artefact, dataset, config)
        return file_lock(folder.with_name(folder.name + ".lock"))

    def fill_one(self, artefact: Artefact, dataset: str, config: DaldaConfig, run: RunDir) -> bool:
        """Copy the stored artefact into the run if it is stored and the run has none of its files."""
        targets = artefact.paths(run, config)
        folder = self.folder(artefact, dataset, config)
        sources = [folder / target.name for target in targets]
        if any(target.exists() for target in targets) or not all(_present(source) for source in sources):
            return False
        for source, target in zip(sources, targets):
            _copy(source, target)
        return True

    def publish_one(self, artefact: Artefact, dataset: str, config: DaldaConfig, run: RunDir, cell: str = "") -> bool:
        """Store the run's artefact if the store lacks it: files into a hidden temporary folder, then one rename."""
        sources = artefact.paths(run, config)
        folder = self.folder(artefact, dataset, config)
        if folder.exists() or not all(_present(source) for source in sources):
            return False
        staging = temporary_folder(folder.parent, prefix=f".{folder.name}.", suffix=".tmp")
        try:
            for source in sources:
                _copy(source, staging / source.name)
            os.rename(staging, folder)  # fails if another process published meanwhile: theirs stays
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
            if folder.exists():
                return False
            raise
        record = {
            "artefact": artefact.name,
            "folder": os.path.relpath(folder, self.root),
            "cell": cell,
            "pid": os.getpid(),
            "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        append_jsonl(self.creations, record)
        return True

    def created(self) -> list[dict[str, Any]]:
        """The lines of :attr:`creations`."""
        return read_jsonl(self.creations)

    def fill(self, dataset: str, config: DaldaConfig, run: RunDir) -> list[str]:
        """Copy stored artefacts the run lacks into it and link its features; returns the names copied."""
        copied = [
            artefact.name
            for artefact in SHARED_ARTEFACTS
            if artefact.wanted_by(config) and self.fill_one(artefact, dataset, config, run)
        ]
        self._link_features(dataset, run)
        return copied

    def publish(self, dataset: str, config: DaldaConfig, run: RunDir, cell: str = "") -> list[str]:
        """Store the run's artefacts that the store lacks (the first cell to make one shares it)."""
        return [
            artefact.name for artefact in SHARED_ARTEFACTS if self.publish_one(artefact, dataset, config, run, cell)
        ]

    def link_features(self, dataset: str, run: RunDir) -> None:
        self._link_features(dataset, run)

    def _link_features(self, dataset: str, run: RunDir) -> None:
        """``run/features`` -> the dataset's shared cache (relative link); a real folder already there is kept."""
        shared = self.features(dataset)
        shared.mkdir(parents=True, exist_ok=True)
        if run.features.is_symlink() or run.features.exists():
            return
        run.root.mkdir(parents=True, exist_ok=True)
        try:
            os.symlink(os.path.relpath(shared, run.root), run.features, target_is_directory=True)
        except FileExistsError:  # another process running this cell linked it first
            pass
