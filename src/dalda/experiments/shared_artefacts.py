"""Work that cells of a grid share instead of redoing: demo images, splits, CLIPScores, prompts, feature caches.

Everything lives under ``<out_dir>/_shared/``::

    data/demo/                                   the demo dataset, drawn once
    <dataset>/features/                          feature caches; each cell's features/ links here
    <dataset>/prompts-<digest>/                  prompts.json + prompts_record.json
    <dataset>/<shots>shot/trial<t>/split-<digest>/split.json
    <dataset>/<shots>shot/trial<t>/scores-<digest>/scores.jsonl

A stored file is keyed by a digest of the config sections its content depends on, so a cell only ever gets a
file made under the same settings (methods differ in prompts and guidance, never in the split). Prompts
depend on the dataset's classes, not on shots or trial, so every shot count and trial of a dataset uses the
same prompts, and an LLM is asked once per dataset. The stages validate what they reuse as well (the split's
dataset/shots/trial, the scores' model and image hashes, the prompts' settings), so a stale file is redone,
never silently used. Feature caches are keyed by backbone and image content inside the file
(``dalda.probes.features``), so one folder per dataset serves every cell of it.

Files are copied (not linked) into a cell before it runs and copied back after it, each write atomic, so a
cell directory stays complete on its own and deleting ``_shared`` loses nothing but time.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from dalda.config import DaldaConfig
from dalda.io import atomic_open
from dalda.rundir import RunDir

SHARED_DIR = "_shared"


@dataclass(frozen=True)
class Artefact:
    name: str
    files: tuple[str, ...]
    """RunDir attributes naming the files that travel together."""
    per_trial: bool
    """True: one per (shots, trial); False: one per dataset."""
    depends_on: tuple[str, ...]
    """Config sections (and ``seed``) the files' content depends on."""


ARTEFACTS = (
    Artefact("split", ("split",), per_trial=True, depends_on=("data",)),
    Artefact("scores", ("scores",), per_trial=True, depends_on=("data", "models", "score")),
    Artefact(
        "prompts", ("prompts", "prompts_record"), per_trial=False, depends_on=("data", "models", "prompts", "seed")
    ),
)


def _digest(config: DaldaConfig, artefact: Artefact) -> str:
    values = config.model_dump(mode="json")
    picked = {section: values[section] for section in artefact.depends_on}
    if not artefact.per_trial:
        picked["data"] = {k: v for k, v in picked["data"].items() if k not in ("shots", "trial")}
    return hashlib.sha256(json.dumps(picked, sort_keys=True).encode()).hexdigest()[:12]


def _copy(source: Path, dest: Path) -> None:
    with atomic_open(dest, "wb") as handle:
        handle.write(source.read_bytes())


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
        base = self.root / dataset
        if artefact.per_trial:
            base = base / f"{config.data.shots}shot" / f"trial{config.data.trial}"
        return base / f"{artefact.name}-{_digest(config, artefact)}"

    def fill(self, dataset: str, config: DaldaConfig, run: RunDir) -> list[str]:
        """Copy stored artefacts the run lacks into it and link its features; returns the names copied."""
        copied = []
        for artefact in ARTEFACTS:
            targets = [getattr(run, name) for name in artefact.files]
            sources = [self.folder(artefact, dataset, config) / target.name for target in targets]
            if not any(target.exists() for target in targets) and all(source.is_file() for source in sources):
                for source, target in zip(sources, targets):
                    _copy(source, target)
                copied.append(artefact.name)
        self._link_features(dataset, run)
        return copied

    def publish(self, dataset: str, config: DaldaConfig, run: RunDir) -> list[str]:
        """Store the run's artefacts that the store lacks (the first cell to make one shares it)."""
        stored = []
        for artefact in ARTEFACTS:
            sources = [getattr(run, name) for name in artefact.files]
            folder = self.folder(artefact, dataset, config)
            targets = [folder / source.name for source in sources]
            if all(source.is_file() for source in sources) and not any(target.exists() for target in targets):
                for source, target in zip(sources, targets):
                    _copy(source, target)
                stored.append(artefact.name)
        return stored

    def _link_features(self, dataset: str, run: RunDir) -> None:
        """``run/features`` -> the dataset's shared cache (relative link); a real folder already there is kept."""
        shared = self.features(dataset)
        shared.mkdir(parents=True, exist_ok=True)
        if run.features.is_symlink() or run.features.exists():
            return
        run.root.mkdir(parents=True, exist_ok=True)
        os.symlink(os.path.relpath(shared, run.root), run.features, target_is_directory=True)
