"""The score stage (`dalda score`): CLIPScore every real training image once, cache it, plot it.

The cache (``scores.jsonl``) is reused record by record: an image is re-scored only when its bytes, the CLIP
model, the prompt template or the class list changed. So re-running a stage, or adding shots, costs only the
new images.
"""

from __future__ import annotations

import hashlib
import logging

from dalda.artefacts.split import read_split_for
from dalda.config import DaldaConfig
from dalda.data.records import ImageRecord
from dalda.data.splits import FewShotSplit
from dalda.io import read_jsonl, write_jsonl_atomic
from dalda.models.loaders import load_clip
from dalda.planning.guidance import clipscore_group
from dalda.rundir import RunDir
from dalda.scoring.clipscore import ImageScore, file_sha256, score_from_row, score_images, score_to_row
from dalda.scoring.histogram import plot_score_histogram

log = logging.getLogger(__name__)


def clip_model_identity(config: DaldaConfig) -> str:
    """Names the CLIP weights a score came from; random tiny weights must never pass for the real model."""
    if config.models.profile == "real":
        return config.models.clip_model
    return f"{config.models.profile}-random:{config.models.clip_model}"


def classes_digest(classes: list[str]) -> str:
    return hashlib.sha256("\n".join(classes).encode()).hexdigest()[:16]


_RUN_FIELDS = ("classes_digest", "score", "group")
"""Fields a scores.jsonl line adds to the ImageScore: the class-list digest, and the value and High/Low group
under this run's score.variant and guidance.alpha (for reading the file; recomputed on every write)."""


def _score_of(row: dict) -> ImageScore:
    return score_from_row({key: value for key, value in row.items() if key not in _RUN_FIELDS})


def _cached(run: RunDir, identity: str, template: str, digest: str) -> dict[tuple[str, str], ImageScore]:
    cache: dict[tuple[str, str], ImageScore] = {}
    for row in read_jsonl(run.scores):
        if row.get("classes_digest") != digest:
            continue
        score = _score_of(row)
        if score.clip_model == identity and score.template == template:
            cache[(score.path, score.sha256)] = score
    return cache


def load_scores(run: RunDir) -> dict[str, ImageScore]:
    """Scores of the run by image path (for planning and reports)."""
    if not run.scores.exists():
        raise FileNotFoundError(f"no CLIPScores at {run.scores}; run `dalda score` first")
    return {
        row["path"]: _score_of(row)
        for row in read_jsonl(run.scores)
    }


def run_score_stage(config: DaldaConfig, run: RunDir, split: FewShotSplit | None = None) -> list[ImageScore]:
    """Scores for ``split.train`` in split order; writes ``scores.jsonl`` and the histogram PNG."""
    split = split or read_split_for(config.data, run)
    identity = clip_model_identity(config)
    template = config.score.template
    digest = classes_digest(split.classes)
    cache = _cached(run, identity, template, digest)

    missing: list[ImageRecord] = []
    keys: list[tuple[str, str]] = []
    for record in split.train:
        key = (str(record.path), file_sha256(record.path))
        keys.append(key)
        if key not in cache:
            missing.append(record)
    if missing:
        log.info("scoring %d images with CLIP (%d cached)", len(missing), len(keys) - len(missing))
        clip = load_clip(config.models)
        fresh = score_images(clip, missing, split.classes, template, identity, config.score.batch_size)
        cache.update({(score.path, score.sha256): score for score in fresh})
    scores = [cache[key] for key in keys]

    values = [score.value(config.score.variant) for score in scores]
    write_jsonl_atomic(
        run.scores,
        (
            {
                **score_to_row(score),
                "classes_digest": digest,
                "score": value,
                "group": clipscore_group(value, config.guidance.alpha),
            }
            for score, value in zip(scores, values)
        ),
    )
    plot_score_histogram(
        values,
        alpha=config.guidance.alpha,
        title=f"{split.dataset}: CLIPScore ({config.score.variant})",
        path=run.score_histogram,
    )
    mean = sum(values) / len(values)
    log.info("mean CLIPScore (%s) over %d images: %.4f", config.score.variant, len(values), mean)
    return scores


def score_summary(scores: list[ImageScore], variant: str, alpha: float) -> dict[str, float | int]:
    values = [score.value(variant) for score in scores]
    return {
        "images": len(values),
        "mean": sum(values) / len(values),
        "low_group": sum(value <= alpha for value in values),
        "high_group": sum(value > alpha for value in values),
    }
