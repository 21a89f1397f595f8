"""The filter stage (`dalda filter`): score every synthetic image against its intended class and keep or reject it.

An image is rejected when (any of) its score under ``filter.scorer`` is below ``filter.min_score``
(``low_score``), the scorer's model ranks another class first (``other_class``; only scorers that compare the
image with every class prompt, such as CLIP and SigLIP, say so, and only with ``filter.reject_other_class``), or,
with ``filter.max_source_similarity`` set, the CLIP image embeddings of the image and its source have a cosine
above it (``near_copy``). Nothing is deleted: every decision and its numbers go to ``synthetic/filter.jsonl``
(:class:`~dalda.artefacts.FilterRecord`), which training reads. The filter never writes generate's manifest, so
running it changes nothing that decides whether an image is made again.

The scorer runs with its own settings from ``filter:`` (beside ``filter.scorer``), never ``score:``'s: the two
sections may choose different scorers or checkpoints. Measurements are cached in ``filter.jsonl`` by image bytes
and the scorer's identity (its checkpoint included), so a re-run with other thresholds only re-decides.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, replace

from dalda.artefacts import FilterRecord, ManifestLine, Split, read_split_for
from dalda.config import DaldaConfig, FilterConfig
from dalda.hashing import file_sha256
from dalda.images import load_rgb
from dalda.models.clip import load_clip
from dalda.rundir import RunDir
from dalda.scorers import TOP_LABEL, ChosenScorer, chosen_scorer, clip_model_identity
from dalda.protocol import probe_models

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FilterSummary:
    total: int
    kept: int
    measured: int
    """Images measured in this run (the others came from the cache)."""
    reasons: dict[str, int]


def decide(record: FilterRecord, cfg: FilterConfig) -> FilterRecord:
    """The record with ``kept``/``reasons`` set from its numbers under the thresholds of ``cfg``."""
    reasons = []
    if record.score < cfg.min_score:
        reasons.append("low_score")
    if cfg.reject_other_class and record.top_label is not None and record.top_label != record.label:
        reasons.append("other_class")
    if (
        cfg.max_source_similarity is not None
        and record.source_similarity is not None
        and record.source_similarity > cfg.max_source_similarity
    ):
        reasons.append("near_copy")
    return replace(record, kept=not reasons, reasons=reasons)


def _measure_scores(
    config: DaldaConfig, scorer: ChosenScorer, run: RunDir, split: Split, lines: list[ManifestLine]
) -> list[dict]:
    measure = scorer.load(probe_models(config), split.classes, config.score.template)
    out = []
    size = config.filter.batch_size
    for start in range(0, len(lines), size):
        batch = lines[start : start + size]
        images = [load_rgb(line.image_path(run.synthetic)) for line in batch]
        out.extend(measure(images, [int(line.label) for line in batch]))
    return out


def _similarities(config: DaldaConfig, run: RunDir, lines: list[ManifestLine]) -> list[float]:
    clip = load_clip(config.models)
    values: list[float] = []
    size = config.filter.batch_size
    for start in range(0, len(lines), size):
        batch = lines[start : start + size]
        synthetic = clip.encode_images([load_rgb(line.image_path(run.synthetic)) for line in batch])
        sources = clip.encode_images([load_rgb(line.source_file(run.root)) for line in batch])
        values.extend(float(value) for value in (synthetic * sources).sum(dim=-1))
    return values


def run_filter_stage(config: DaldaConfig, run: RunDir) -> FilterSummary:
    """Measure what is not cached, decide every image, write ``filter.jsonl``."""
    split = read_split_for(config.data, run)
    lines = ManifestLine.read_all(run)
    for number, line in enumerate(lines, start=1):
        if line.label is None or line.source_path is None:
            raise ValueError(f"{run.manifest} line {number} has no label or source_path; regenerate the manifest")
    scorer = chosen_scorer(config, "filter")
    identity = scorer.identity(config.models)
    near_copy = config.filter.max_source_similarity is not None
    similarity_model = clip_model_identity(config.models) if near_copy else None
    cached = {(record.file_name, record.sha256): record for record in FilterRecord.read_all(run, missing_ok=True)}

    records: list[FilterRecord | None] = []
    hashes = [file_sha256(line.image_path(run.synthetic)) for line in lines]
    to_score: list[int] = []
    to_compare: list[int] = []
    for index, (line, sha) in enumerate(zip(lines, hashes, strict=True)):
        old = cached.get((line.file_name, sha))
        if old is None or old.scorer != config.filter.scorer or old.scorer_model != identity:
            to_score.append(index)
            old = None
        if near_copy and (old is None or old.source_similarity is None or old.similarity_model != similarity_model):
            to_compare.append(index)
        records.append(old)

    if to_score:
        log.info("filter: scoring %d synthetic images with %s", len(to_score), scorer.title)
        measured = _measure_scores(config, scorer, run, split, [lines[i] for i in to_score])
        for index, measures in zip(to_score, measured, strict=True):
            line = lines[index]
            top = measures.get(TOP_LABEL)
            records[index] = FilterRecord(
                file_name=line.file_name,
                row_id=line.row_id,
                label=int(line.label),
                sha256=hashes[index],
                scorer=config.filter.scorer,
                scorer_model=identity,
                score=scorer.value(measures),
                top_label=None if top is None else int(top),
                source_similarity=None,
                similarity_model=None,
                kept=True,
            )
    if to_compare:
        log.info("filter: comparing %d synthetic images with their sources", len(to_compare))
        for index, value in zip(to_compare, _similarities(config, run, [lines[i] for i in to_compare]), strict=True):
            records[index] = replace(records[index], source_similarity=value, similarity_model=similarity_model)

    decided = [decide(record, config.filter) for record in records if record is not None]
    FilterRecord.write_all(run, decided)
    reasons = Counter(reason for record in decided for reason in record.reasons)
    kept = sum(record.kept for record in decided)
    log.info("filter: kept %d of %d synthetic images (%s)", kept, len(decided), dict(reasons) or "none rejected")
    return FilterSummary(len(decided), kept, len(set(to_score) | set(to_compare)), dict(reasons))


__all__ = ["FilterSummary", "decide", "run_filter_stage"]
