"""Few-shot splits: which real images a run trains on and which it is evaluated on.

Three evaluation splits (``data.eval_split``; ``docs/protocol.md`` compares them with the paper's):

- ``authors`` (default): the dataset entry's recipe (:class:`dalda.datasets.Halves`) with the authors' own
  random calls, so that for Pets and Flowers102 the files are theirs, file for file (``docs/protocol.md``).
  Each side (pool, evaluation) gets its own ``numpy.random.default_rng(trial)``; class by class in label order
  it draws ``permutation(n)`` over the class's records in the recipe's order (``Halves.order``) and cuts it in
  two with ``numpy.array_split`` (an odd image goes to the first half). The pool is the first half of one
  source, the evaluation set the second half of the other, and the shots are the FIRST ``shots`` images of the
  pool in that permuted order (no second permutation). Pets: pool from trainval.txt, evaluation from test.txt,
  each in the file's order; Caltech-101, Flowers102 and every other dataset: all images of the class on both
  sides, sorted by path (the authors' Flowers listing is sorted; their Caltech listing is an unsorted ``glob``
  whose order depends on the file system, so no listing can match it everywhere and dalda sorts). The cut
  depends on the trial, so each trial is scored on its own evaluation half.
- ``trainval-rest``: trainval is halved per class with a FIXED seed; the shots come from the first half and
  the second half is the evaluation set, the same images for every trial and shot count.
- ``test``: the few-shot images are drawn from all of trainval and the official test split is the evaluation set.

The draw of the two other splits: records are sorted by (label, path) first, so file-system order never
matters; then each class's pool is permuted by ``numpy.random.default_rng([seed, trial, label])`` and the first
``shots`` readable images are taken. A different trial gives a different draw; for one trial, the 1-shot
images are among the 2-shot images, and so on. An unreadable image met during the draw is warned about and replaced by the next one in the
permutation. Evaluation images are NOT decoded here (that would mean reading thousands of files before any
work starts): stages that read them use :func:`dalda.images.drop_unreadable` or catch
:class:`~dalda.images.UnreadableImageError`.

Content-identical files (a photo copied twice into a class folder) are one image: the draw skips a copy of an
image it already took, and an evaluation image with the same bytes as a training image of its class is left out
of the evaluation set, so a copy never sits on both sides of the split; both are logged as warnings naming the
files. Only evaluation files with the byte size of a training image are hashed, so this reads a few files, not
the dataset. The same bytes under two classes are reported (a labelling mistake the user has to settle).
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from pathlib import Path

import numpy as np

from dalda.artefacts.split import Split
from dalda.datasets import ALL_HALVED, DatasetIndex, Halves, ImageRecord, sorted_records
from dalda.hashing import file_sha256
from dalda.images import is_readable

log = logging.getLogger(__name__)

EVAL_SPLITS = ("authors", "trainval-rest", "test")
# Fixed seeds, one per purpose; changing any of them changes every split ever written.
_HALVING_SEED = 1001
_DRAW_SEED = 2002
_EVAL_CAP_SEED = 3003


def _by_class(records: list[ImageRecord]) -> dict[int, list[ImageRecord]]:
    grouped: dict[int, list[ImageRecord]] = defaultdict(list)
    for record in sorted_records(records):
        grouped[record.label].append(record)
    return grouped


def _permuted(records: list[ImageRecord], seed: list[int]) -> list[ImageRecord]:
    order = np.random.default_rng(seed).permutation(len(records))
    return [records[i] for i in order]


def _draw(ordered_pool: list[ImageRecord], shots: int, class_name: str, eval_split: str) -> list[ImageRecord]:
    """The first ``shots`` readable images of the pool, already in this trial's order; too few is an error."""
    drawn: list[ImageRecord] = []
    taken: dict[str, Path] = {}
    unreadable = copies = 0
    for record in ordered_pool:
        if len(drawn) == shots:
            break
        if not is_readable(record.path):
            unreadable += 1
            continue
        digest = file_sha256(Path(record.path))
        if digest in taken:
            log.warning("class %r: %s is a copy of %s (same bytes), not drawn twice", class_name, record.path,
                        taken[digest])
            copies += 1
            continue
        taken[digest] = Path(record.path)
        drawn.append(record)
    if len(drawn) < shots:
        where = "its trainval images" if eval_split == "test" else "the half of its images the shots come from"
        raise ValueError(
            f"class {class_name!r} has {len(ordered_pool)} images to draw from ({where}"
            + (f", {unreadable} of them unreadable" if unreadable else "")
            + (f", {copies} of them copies of another" if copies else "")
            + f") but data.shots={shots}; lower data.shots or add images of that class"
        )
    return drawn


def _authors_halves(
    index: DatasetIndex, halves: Halves, trial: int
) -> tuple[dict[int, list[ImageRecord]], dict[int, list[ImageRecord]]]:
    """Per class: the pool (first half of ``halves.pool_from``, in permuted order) and the evaluation set (second
    half of ``halves.eval_from``), with the authors' random calls (module docstring)."""
    test = index.test or []
    sources = {"all": index.trainval + test, "trainval": index.trainval, "test": test}
    if halves.order == "sorted":
        sources = {side: sorted_records(records) for side, records in sources.items()}
    if index.test is None and halves.eval_from == "test":
        raise ValueError(
            f"dataset {index.name!r} evaluates on half of its official test split under data.eval_split=authors, "
            "but its index has none; check the dataset files under data.root"
        )
    pools: dict[int, list[ImageRecord]] = {}
    rests: dict[int, list[ImageRecord]] = {}
    for side, target, part in ((halves.pool_from, pools, 0), (halves.eval_from, rests, 1)):
        rng = np.random.default_rng(trial)  # one per side, as each of the authors' dataset objects makes its own
        for label in range(len(index.classes)):  # every class in label order: each permutation advances the rng
            records = [record for record in sources[side] if record.label == label]
            ids = np.array_split(rng.permutation(len(records)), 2)[part]
            target[label] = [records[i] for i in ids]
    return pools, rests


def _size(path: Path) -> int | None:
    try:
        return os.path.getsize(path)
    except OSError:
        return None  # a missing file: the stages that read it report it


def _without_copies_of(
    train: list[ImageRecord], evaluation: list[ImageRecord], classes: list[str]
) -> list[ImageRecord]:
    """``evaluation`` without the files whose bytes equal a training image of the same class (module docstring);
    a copy under another class is kept and reported."""
    sizes = {_size(Path(record.path)) for record in train} - {None}
    digests: dict[str, ImageRecord] = {}
    if any(_size(Path(record.path)) in sizes for record in evaluation):
        digests = {file_sha256(Path(record.path)): record for record in train}
    kept, dropped, elsewhere = [], [], []
    for record in evaluation:
        twin = digests.get(file_sha256(Path(record.path))) if _size(Path(record.path)) in sizes else None
        if twin is None:
            kept.append(record)
        elif twin.label == record.label:
            dropped.append((record, twin))
        else:
            kept.append(record)
            elsewhere.append((record, twin))
    if dropped:
        record, twin = dropped[0]
        log.warning("%d evaluation image(s) are byte-identical copies of training images and are left out of the "
                    "evaluation set, e.g. %s (a copy of %s)", len(dropped), record.path, twin.path)
    for record, twin in elsewhere:
        log.warning("%s (class %r) has the same bytes as training image %s of class %r; one of them is mislabelled",
                    record.path, classes[record.label], twin.path, classes[twin.label])
    return kept


def make_split(
    index: DatasetIndex,
    shots: int,
    trial: int,
    eval_split: str,
    max_eval_per_class: int | None = None,
    halves: Halves = ALL_HALVED,
) -> Split:
    """Draw ``shots`` training images per class for ``trial`` and pick the evaluation images (module docstring).

    ``halves`` is the dataset entry's recipe for ``eval_split="authors"`` (``DatasetSpec.halves``).
    """
    if shots < 1:
        raise ValueError(f"data.shots must be at least 1, got {shots}")
    if trial < 0:
        raise ValueError(f"data.trial must be 0 or more, got {trial}")
    if eval_split not in EVAL_SPLITS:
        raise ValueError(f"data.eval_split={eval_split!r} is not one of {list(EVAL_SPLITS)}")
    if max_eval_per_class is not None and max_eval_per_class < 1:
        raise ValueError(f"data.max_eval_per_class must be at least 1, got {max_eval_per_class}")
    if eval_split == "test" and index.test is None:
        raise ValueError(
            f"dataset {index.name!r} has no official test split; use data.eval_split=authors or trainval-rest "
            "(evaluate on the half of the images the few-shot images are not drawn from)"
        )

    trainval = _by_class(index.trainval)
    test = _by_class(index.test or [])
    if eval_split == "authors":
        authors_pools, authors_rests = _authors_halves(index, halves, trial)
    train: list[ImageRecord] = []
    evaluation: list[ImageRecord] = []
    for label, class_name in enumerate(index.classes):
        records = trainval.get(label, [])
        if eval_split == "authors":
            pool, rest = authors_pools.get(label, []), authors_rests.get(label, [])
        elif eval_split == "trainval-rest":
            shuffled = _permuted(records, [_HALVING_SEED, label])
            half = (len(shuffled) + 1) // 2  # an odd image goes to the pool
            pool, rest = shuffled[:half], shuffled[half:]
        else:
            pool, rest = records, test.get(label, [])
        ordered_pool = pool if eval_split == "authors" else _permuted(pool, [_DRAW_SEED, trial, label])
        train.extend(_draw(ordered_pool, shots, class_name, eval_split))
        if max_eval_per_class is not None:
            rest = _permuted(rest, [_EVAL_CAP_SEED, label])[:max_eval_per_class]
        evaluation.extend(rest)

    overlap = {Path(r.path).resolve() for r in train} & {Path(r.path).resolve() for r in evaluation}
    if overlap:
        raise RuntimeError(f"few-shot training and evaluation images overlap, e.g. {sorted(overlap)[0]}")
    evaluation = _without_copies_of(train, evaluation, list(index.classes))
    return Split(
        dataset=index.name,
        classes=list(index.classes),
        shots=shots,
        trial=trial,
        eval_split=eval_split,
        train=sorted_records(train),
        eval=sorted_records(evaluation),
        max_eval_per_class=max_eval_per_class,
    )
