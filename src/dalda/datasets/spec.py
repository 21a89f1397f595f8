"""What dalda knows about one dataset: its loader, its table heading, its LLM description, its CLIPScore group.

One :class:`DatasetSpec` per dataset replaces what used to be four parallel tables (loader, description, report
title, config check); the data, prompts and report stages and ``dalda.configure`` all read the same entry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from dalda.datasets.records import DatasetIndex
from dalda.registry import Registry
from dalda.settings import EntrySettings, NoSettings

DatasetLoader = Callable[[Path | None, bool, Path, Any], DatasetIndex]
"""``load(root, download, cache_dir, settings)``: index the dataset under ``root`` (None: the dataset's own default,
if it has one), letting torchvision download it when ``download``; ``cache_dir`` is where a generated dataset is
drawn; ``settings`` are the dataset's own (its ``settings_model``, from beside ``data.dataset``)."""


@dataclass(frozen=True)
class PaperAlignment:
    """How well CLIP matches the dataset's images to their class names, as the paper reports it (Sec. 4.1).

    ``mean_clipscore`` is the paper's mean softmax CLIPScore over the dataset; ``group`` is its High (HC) or
    Low (LC) CLIPScore group, the split of its Tab. 3.
    """

    mean_clipscore: float
    group: Literal["HC", "LC"]


@dataclass(frozen=True)
class Halves:
    """How ``data.eval_split=authors`` cuts this dataset, as the paper's authors cut it (``docs/protocol.md``).

    Per class, the records of ``pool_from`` and of ``eval_from``, in ``order``, are each permuted by the trial and
    cut in two (``numpy.array_split``): the few-shot pool is the first half of ``pool_from``, the evaluation set
    the second half of ``eval_from`` (the random calls are in ``dalda.data.splits``). "all" is trainval plus the official test split, "test" the official test
    split, "trainval" the trainval records. With the same source on both sides, the two halves are disjoint.
    """

    pool_from: Literal["all", "trainval"] = "all"
    eval_from: Literal["all", "test"] = "all"
    order: Literal["sorted", "listed"] = "sorted"
    """Order of a class's records before the permutation: "sorted" by path, or "listed" as the dataset's own
    list files give them (the loader keeps that order). The permutation's result depends on it."""

    def __post_init__(self) -> None:
        if (self.pool_from == "all") != (self.eval_from == "all"):
            raise ValueError(f"{self}: 'all' on one side only would let the pool and the evaluation set overlap")


ALL_HALVED = Halves()
"""Every image of a class, halved: the authors' recipe for Caltech-101 and Flowers102, and dalda's for any
dataset whose entry does not name another."""


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset, complete: adding a dataset is one module defining this plus one ``DATASETS.register``."""

    name: str
    """The value of ``data.dataset``."""
    title: str
    """Heading in report tables ("Oxford Pets")."""
    description: str | None
    """What the LLM is told the dataset looks like (paper App. C); None: the user must give one."""
    load: DatasetLoader
    alignment: PaperAlignment | None = None
    """The paper's CLIPScore figures for its own datasets; None for every other dataset."""
    needs_root: bool = False
    """True when a config naming this dataset is invalid without ``data.root`` (the user's own folder); checked
    when the config is built. Datasets that need a root only to load (torchvision's) say so when loaded, so a
    config for e.g. the prompts stage alone stays valid."""
    halves: Halves = ALL_HALVED
    """The split recipe of ``data.eval_split=authors`` for this dataset."""
    licence: str | None = None
    """The source images' licence, as their publishers state it, for the card of ``dalda export``; None: unknown."""
    citation: str | None = None
    """BibTeX of the paper that published the source images, for the card of ``dalda export``; None: none known."""
    num_classes: int | None = None
    """How many classes the dataset has, for cost estimates made before it is read (``dalda experiment
    --dry-run``); None: unknown until the dataset is indexed."""
    llm_names: Mapping[str, str] = field(default_factory=dict)
    """class name -> the noun phrase the LLM is asked with, for names an LLM would misread ("bass" -> "bass
    fish"). Used ONLY to build the LLM request and to check its answer (``dalda.chat.request``); the class
    label, the CLIP prompts, the file names and ``prompts.json`` keep the dataset's names."""
    authors_names: Mapping[str, str] = field(default_factory=dict)
    """class name -> the authors' text for it, used instead under ``train.protocol=authors``
    (``ProtocolChoices.class_names``, ``dalda.protocol``); a class not listed keeps its name. The texts feed
    the alignment score, the CLIP head, the Base Prompt and the zero-shot row."""
    settings_model: type[EntrySettings] = NoSettings
    """Settings only this dataset has, beside ``data.dataset`` (``data: {dataset: mine, my_setting: 3}``), handed
    to ``load``. Every built-in has none: the folder, downloading, shots and description are ``data:`` fields
    that every dataset reads."""


DATASETS: Registry[DatasetSpec] = Registry("dataset", setting="data.dataset", group="dalda.datasets")
"""Every dataset by name, the paper's in its table order first (reports list datasets in this order)."""
