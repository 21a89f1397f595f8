"""The score stage (`dalda score`): score every real training image once with the configured alignment scorer
(``score.variant``, an entry of :data:`dalda.scorers.SCORERS`, with its settings from ``score:``), cache it, plot
it.

The cache (``scores.jsonl``) is reused record by record: an image is re-scored only when its bytes, the scorer's
model (its identity, checkpoint included), the prompt template or the class list changed. So re-running a stage, adding shots, or switching between
scorers that share a model (CLIP softmax / cosine) costs only the new images.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import replace

from dalda.artefacts import Split, read_split_for
from dalda.config import DaldaConfig
from dalda.datasets import ImageRecord
from dalda.hashing import file_sha256
from dalda.images import load_rgb
from dalda.rundir import RunDir
from dalda.guidance import SamplingContext, clipscore_group, group_threshold
from dalda.scorers import ImageScore, Measurer, chosen_scorer
from dalda.scoring.histogram import plot_score_histogram
from dalda.progress import progress_bar
from dalda.protocol import probe_models

log = logging.getLogger(__name__)


def classes_digest(classes: list[str]) -> str:
    """Short digest of the class list: a score is against every class prompt, so another list invalidates it."""
    return hashlib.sha256("\n".join(classes).encode()).hexdigest()[:16]


def _cached(run: RunDir, identity: str, template: str, digest: str) -> dict[tuple[int, str], ImageScore]:
    """Stored scores by (label, content digest): an image is known by its bytes, not where it lies, so a moved
    data root or a copied run reuses every score."""
    if not run.scores.is_file():
        return {}
    return {
        (score.label, score.sha256): score
        for score in ImageScore.read_all(run)
        if score.classes_digest == digest and score.clip_model == identity and score.template == template
    }


def score_images(
    measure: Measurer,
    records: list[ImageRecord],
    classes: list[str],
    identity: str,
    template: str,
    batch_size: int,
) -> list[ImageScore]:
    """Measure images in batches against the class list; one record per image, in input order."""
    scores: list[ImageScore] = []
    with progress_bar("scoring real images", total=len(records), unit="img") as advance:
        for start in range(0, len(records), batch_size):
            batch = records[start : start + batch_size]
            measured = measure([load_rgb(record.path) for record in batch], [record.label for record in batch])
            for record, measures in zip(batch, measured, strict=True):
                scores.append(
                    ImageScore(
                        path=str(record.path),
                        class_name=classes[record.label],
                        label=record.label,
                        sha256=file_sha256(record.path),
                        measures=measures,
                        clip_model=identity,
                        template=template,
                    )
                )
            advance(len(batch))
    return scores


def run_score_stage(config: DaldaConfig, run: RunDir, split: Split | None = None) -> list[ImageScore]:
    """Scores for ``split.train`` in split order; writes ``scores.jsonl`` and the histogram PNG."""
    split = split or read_split_for(config.data, run)
    scorer = chosen_scorer(config, "score")
    identity = scorer.identity(config.models)
    template = config.score.template
    digest = classes_digest(split.classes)
    cache = _cached(run, identity, template, digest)

    missing: list[ImageRecord] = []
    keys: list[tuple[int, str]] = []
    for record in split.train:
        key = (record.label, file_sha256(record.path))
        keys.append(key)
        if key not in cache:
            missing.append(record)
    if missing:
        log.info("scoring %d images with %s (%d cached)", len(missing), scorer.title, len(keys) - len(missing))
        measure = scorer.load(probe_models(config), split.classes, template)
        fresh = score_images(measure, missing, split.classes, identity, template, config.score.batch_size)
        cache.update({(score.label, score.sha256): score for score in fresh})
    scores = [replace(cache[key], path=str(record.path)) for key, record in zip(keys, split.train, strict=True)]

    values = [scorer.value(score.measures) for score in scores]
    alpha = group_threshold(config.guidance, SamplingContext(split.shots, values, scorer.default_alpha))
    scores = [
        replace(score, classes_digest=digest, score=value, group=clipscore_group(value, alpha))
        for score, value in zip(scores, values)
    ]
    ImageScore.write_all(run, scores)
    plot_score_histogram(
        values, alpha=alpha, title=f"{split.dataset}: {scorer.title}", path=run.score_histogram, xlabel=scorer.title
    )
    mean = sum(values) / len(values)
    log.info("mean %s over %d images: %.4f", scorer.title, len(values), mean)
    return scores
