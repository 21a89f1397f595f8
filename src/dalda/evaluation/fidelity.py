"""FID and KID of a run's synthetic images against its real evaluation images (``dalda.metrics.fidelity``).

Each side is capped at ``evaluate.fidelity.max_images`` images, drawn without replacement by a generator seeded
with the run's seed, so reruns compare the same images. Both sides are embedded once by the encoder
``evaluate.fidelity.features`` names (with its settings, beside it), and every enabled fidelity metric
(``evaluate.metrics.<name>.enabled``) reads those features with its own settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from dalda.config import DaldaConfig
from dalda.images import load_rgb
from dalda.metrics import FIDELITY_FEATURES, fidelity_metrics, metric_settings
from dalda.metrics.features import FeatureFn
from dalda.progress import progress_bar
from dalda.settings import settings_model

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
    metrics = fidelity_metrics()
    settings = {name: metric_settings(ev, name) for name, _ in metrics}
    enabled = [(name, metric) for name, metric in metrics if settings[name].enabled]
    values: dict[str, Any] = {name: None for name, _ in metrics}
    if not enabled:
        return values
    encoder = FIDELITY_FEATURES.get(ev.fidelity.features)
    encoder_settings = settings_model(encoder).of(ev.fidelity)
    cap = ev.fidelity.max_images
    rng = np.random.default_rng([config.seed, 13])
    synthetic, real = _capped(synthetic, cap, rng), _capped(real, cap, rng)
    details: dict[str, Any] = {
        "metrics": [name for name, _ in enabled],
        "features": encoder.identity(config, encoder_settings),
        "num_synthetic": len(synthetic),
        "num_real": len(real),
        "max_images": cap,
        "note": FIDELITY_NOTE,
    }
    if len(synthetic) < 2 or len(real) < 2:
        details["skipped"] = "FID/KID need at least two synthetic and two real evaluation images"
        return {**values, "fidelity": details}
    encode = encoder.load(config, encoder_settings)
    batch = ev.batch_size
    features_synthetic = _features(encode, synthetic, batch, "synthetic")
    features_real = _features(encode, real, batch, "real")
    for name, metric in enabled:
        out = metric.compute(features_synthetic, features_real, settings[name], config.seed)
        values[name] = out.pop(name)
        details.update(out)
    return {**values, "fidelity": details}
