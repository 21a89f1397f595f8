"""Fidelity metrics: how close the synthetic set's feature distribution is to the real evaluation images'.

Unlike the diversity metrics (pairs of images), these compare two sets, so they are entries of their own
registry, ``FIDELITY_METRICS``, with one signature: (synthetic features, real features) -> numbers.
Both sets are embedded once by the encoder ``evaluate.fidelity_features`` names (``FIDELITY_FEATURES``):

- ``inception`` (default): Inception-v3's 2048-d average-pool features, the layer FID and KID are defined on.
  The real profile uses torchvision's ImageNet weights, not the TensorFlow-ported ones of the original FID code
  (``pt_inception-2015-12-05``), so the numbers compare dalda runs with each other, not with published FIDs;
- ``dino``: the DINO(v2) embedding of ``models.dino_model`` (unit norm; a self-supervised feature space);
- ``clip``: the CLIP image embedding of ``models.clip_model`` (unit norm).

Entries:

- ``fid``: the Fréchet distance between Gaussians fitted to the two feature sets,
  ``|mu_s - mu_r|^2 + tr(C_s + C_r - 2 (C_s C_r)^(1/2))``; the trace of the matrix square root is computed
  exactly (no ``scipy.linalg.sqrtm`` of a 2048 x 2048 product, which takes minutes on a CPU): from the
  singular values of the centred features' cross product when a set has fewer images than dimensions, else
  from symmetric eigendecompositions (:func:`frechet_distance`; tests check both against ``sqrtm``).
  It is biased upward when a set is small: with fewer images than feature dimensions the covariance is
  rank-deficient, and a 1-shot synthetic set of a few hundred images gives a larger FID than a large set from
  the same distribution would. Compare FIDs only between runs with the same image counts and features.
- ``kid``: the squared maximum mean discrepancy with the polynomial kernel ``k(x, y) = (x.y / d + 1)^3``,
  unbiased estimator, averaged over ``evaluate.kid_subsets`` random subsets of ``evaluate.kid_subset_size``
  images per side (Bińkowski et al., 2018); unbiased for any set size, so better suited to small sets.
  Its standard deviation over the subsets is reported as ``kid_std``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np
from PIL import Image

from dalda.config import DaldaConfig, EvaluateConfig
from dalda.models.clip import load_clip
from dalda.models.dino import dino_identity, load_dino
from dalda.models.inception import inception_identity, load_inception

FeatureFn = Callable[[list[Image.Image]], np.ndarray]
"""RGB images -> (N, D) float64 features."""


class FidelityEncoder(Protocol):
    """The features FID / KID compare; ``evaluate.fidelity_features`` names one."""

    name: str

    def identity(self, config: DaldaConfig) -> str:
        """Names the model and layer (written to ``diversity.json``); random weights never pass for real ones."""
        ...

    def load(self, config: DaldaConfig) -> FeatureFn: ...


class FidelityMetric(Protocol):
    """One number (or a few) comparing the synthetic set with the real evaluation images."""

    name: str
    """Its key in ``diversity.json`` and ``results/<classifier>.json`` ("fid")."""
    title: str
    """Its report column, before the direction arrow ("FID")."""
    higher_is_more_diverse: bool
    """Always False here: lower is closer to the real images (the report's arrow points the better way)."""

    def enabled(self, evaluate: EvaluateConfig) -> bool: ...

    def compute(self, synthetic: np.ndarray, real: np.ndarray, evaluate: EvaluateConfig, seed: int) -> dict[str, float]:
        """``{name: value, ...extra numbers}`` from (N, D) synthetic and (M, D) real features."""
        ...


# ------------------------------------------------------------------------------------------------- maths


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    """The symmetric square root of a symmetric positive semi-definite matrix (negative rounding noise -> 0)."""
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def trace_sqrt_product(cov_a: np.ndarray, cov_b: np.ndarray) -> float:
    """tr((A B)^(1/2)) for covariance matrices A, B.

    A B is similar to A^(1/2) B A^(1/2), which is symmetric positive semi-definite, so the trace is the sum of the
    square roots of that matrix's eigenvalues: two symmetric eigendecompositions, exact up to rounding and about
    twice as fast as ``scipy.linalg.sqrtm`` of the non-symmetric product at 2048-d
    (``benchmarks/results/scorers_metrics.md``). Used when both sets have at least as many images as dimensions.
    """
    root_a = _psd_sqrt(cov_a)
    values = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    return float(np.sqrt(np.clip(values, 0.0, None)).sum())


def frechet_distance(synthetic: np.ndarray, real: np.ndarray) -> float:
    """FID between Gaussians fitted to two (N, D) / (M, D) feature sets (each needs at least two rows).

    With fewer images than dimensions (the usual few-shot case) the trace term is computed from the centred
    features X_s, X_r alone: the non-zero eigenvalues of C_s C_r are the squared singular values of
    X_s X_r^T / sqrt((N-1)(M-1)), so tr((C_s C_r)^(1/2)) is that matrix's nuclear norm (an N x M problem instead
    of a D x D one); otherwise :func:`trace_sqrt_product` of the covariances.
    """
    mu_s, mu_r = synthetic.mean(axis=0), real.mean(axis=0)
    centred_s, centred_r = synthetic - mu_s, real - mu_r
    n, m, dim = len(synthetic), len(real), synthetic.shape[1]
    trace_s = float((centred_s**2).sum()) / (n - 1)
    trace_r = float((centred_r**2).sum()) / (m - 1)
    if min(n, m) < dim:
        cross = centred_s @ centred_r.T / np.sqrt((n - 1) * (m - 1))
        trace_root = float(np.linalg.svd(cross, compute_uv=False).sum())
    else:
        covariances = (np.atleast_2d(np.cov(features, rowvar=False)) for features in (synthetic, real))
        trace_root = trace_sqrt_product(*covariances)
    diff = mu_s - mu_r
    return float(max(diff @ diff + trace_s + trace_r - 2.0 * trace_root, 0.0))


def polynomial_mmd2(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 of two (m, D) and (n, D) sets with the kernel ``(x.y / D + 1)^3`` (m, n >= 2)."""
    dim = x.shape[1]
    k_xx = (x @ x.T / dim + 1.0) ** 3
    k_yy = (y @ y.T / dim + 1.0) ** 3
    k_xy = (x @ y.T / dim + 1.0) ** 3
    m, n = len(x), len(y)
    within_x = (k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
    within_y = (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1))
    return float(within_x + within_y - 2.0 * k_xy.mean())


def kernel_inception_distance(
    synthetic: np.ndarray, real: np.ndarray, subset_size: int, subsets: int, seed: int
) -> tuple[float, float]:
    """KID: mean and std of :func:`polynomial_mmd2` over ``subsets`` draws of ``min(subset_size, N, M)`` rows
    per side without replacement (one draw when both sets fit whole: more would repeat it)."""
    size = min(subset_size, len(synthetic), len(real))
    if size == len(synthetic) == len(real):
        return polynomial_mmd2(synthetic, real), 0.0
    rng = np.random.default_rng([seed, 14])
    values = [
        polynomial_mmd2(
            synthetic[rng.choice(len(synthetic), size, replace=False)], real[rng.choice(len(real), size, replace=False)]
        )
        for _ in range(subsets)
    ]
    return float(np.mean(values)), float(np.std(values))


# ----------------------------------------------------------------------------------------------- entries


class Fid:
    name = "fid"
    title = "FID"
    higher_is_more_diverse = False
    optional = True

    def enabled(self, evaluate: EvaluateConfig) -> bool:
        return evaluate.fid

    def compute(self, synthetic: np.ndarray, real: np.ndarray, evaluate: EvaluateConfig, seed: int) -> dict[str, float]:
        return {"fid": frechet_distance(synthetic, real)}


class Kid:
    name = "kid"
    title = "KID"
    higher_is_more_diverse = False
    optional = True

    def enabled(self, evaluate: EvaluateConfig) -> bool:
        return evaluate.kid

    def compute(self, synthetic: np.ndarray, real: np.ndarray, evaluate: EvaluateConfig, seed: int) -> dict[str, float]:
        mean, std = kernel_inception_distance(synthetic, real, evaluate.kid_subset_size, evaluate.kid_subsets, seed)
        return {"kid": mean, "kid_std": std}


class InceptionFeatures:
    name = "inception"

    def identity(self, config: DaldaConfig) -> str:
        return inception_identity(config.models)

    def load(self, config: DaldaConfig) -> FeatureFn:
        return load_inception(config.models).encode_images


class DinoFeatures:
    name = "dino"

    def identity(self, config: DaldaConfig) -> str:
        return f"dino:{dino_identity(config.models, config.models.dino_model)}:{config.evaluate.dino_pooling}"

    def load(self, config: DaldaConfig) -> FeatureFn:
        dino = load_dino(config.models, config.models.dino_model, "models.dino_model", config.evaluate.dino_pooling)
        return lambda images: dino.encode_images(images).double().numpy()


class ClipFeatures:
    name = "clip"

    def identity(self, config: DaldaConfig) -> str:
        models = config.models
        name = models.clip_model if models.profile == "real" else f"{models.profile}-random:{models.clip_model}"
        return f"clip:{name}"

    def load(self, config: DaldaConfig) -> FeatureFn:
        clip = load_clip(config.models)
        return lambda images: clip.encode_images(images).double().numpy()
