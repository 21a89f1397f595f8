"""FID and KID of a run's synthetic images against its real evaluation images (``dalda.metrics.fidelity``).

Each side is capped at ``evaluate.fidelity_max_images`` images, drawn without replacement by a generator seeded
with the run's seed, so reruns compare the same images. Both sides are embedded once by the encoder
``evaluate.fidelity_features`` names, and every enabled fidelity metric reads those features.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from dalda.config import DaldaConfig
from dalda.images import load_rgb
from dalda.metrics import FIDELITY_FEATURES, FIDELITY_METRICS
from dalda.metrics.fidelity import FeatureFn
from dalda.progress import progress_bar

FIDELITY_NOTE = (
    "synthetic images vs the real evaluation images; FID is biased upward for small sets (compare runs with equal "
    "image counts only); KID is unbiased (mean and std over random subsets)"
)


def _capped(paths: Sequence[Path], cap: int, rng: np.random.Generator) -> list[Path]:
    if len(paths) <= cap:
        return list(paths)
    return [paths[i] for i in np.sort(rng.choice(len(paths), size=cap, replace=False))]


def _features(encode: FeatureFn, paths: Sequence[Path], batch_size: int, what: str) -> np.ndarray:
    chunks = []
    with progress_bar(f"fidelity features ({what})", total=len(paths)) as advance:
        for start in range(0, len(paths), batch_size):
            batch = paths[start : start + batch_size]
            chunks.append(encode([load_rgb(path) for path in batch]))
            advance(len(batch))
    return np.concatenate(chunks)


def fidelity_report(config: DaldaConfig, synthetic: Sequence[Path], real: Sequence[Path]) -> dict[str, Any]:
    """``{fid: ..., kid: ..., fidelity: {details}}`` for the enabled fidelity metrics; every registered metric's
    key is present (None when disabled or when a side has fewer than two images)."""
    ev = config.evaluate
    enabled = [metric for _, metric in FIDELITY_METRICS.items() if metric.enabled(ev)]
    values: dict[str, Any] = {name: None for name in FIDELITY_METRICS}
    if not enabled:
        return values
    encoder = FIDELITY_FEATURES.get(ev.fidelity_features)
    rng = np.random.default_rng([config.seed, 13])
    synthetic, real = _capped(synthetic, ev.fidelity_max_images, rng), _capped(real, ev.fidelity_max_images, rng)
    details: dict[str, Any] = {
        "metrics": [metric.name for metric in enabled],
        "features": encoder.identity(config),
        "num_synthetic": len(synthetic),
        "num_real": len(real),
        "max_images": ev.fidelity_max_images,
        "kid_subset_size": min(ev.kid_subset_size, len(synthetic), len(real)),
        "kid_subsets": ev.kid_subsets,
        "note": FIDELITY_NOTE,
    }
    if len(synthetic) < 2 or len(real) < 2:
        details["skipped"] = "FID/KID need at least two synthetic and two real evaluation images"
        return {**values, "fidelity": details}
    encode = encoder.load(config)
    batch = ev.batch_size
    features_synthetic = _features(encode, synthetic, batch, "synthetic")
    features_real = _features(encode, real, batch, "real")
    for metric in enabled:
        out = metric.compute(features_synthetic, features_real, ev, config.seed)
        values[metric.name] = out.pop(metric.name)
        details.update(out)
    return {**values, "fidelity": details}
