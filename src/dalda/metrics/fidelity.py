"""Fidelity metrics: how close the synthetic set's feature distribution is to the real evaluation images'.

Unlike the diversity metrics (pairs of images), these compare two sets (``kind = "fidelity"``), with one
signature: (synthetic features, real features) -> numbers. Both sets are embedded once, by the encoder
``evaluate.fidelity.features`` names, for every enabled fidelity metric (``features.py``; ``inception`` by
default, Inception-v3's 2048-d pool features, the layer FID and KID are defined on).

Entries (both off by default: ``evaluate.metrics.fid.enabled``, ``evaluate.metrics.kid.enabled``):

- ``fid``: the Fréchet distance between Gaussians fitted to the two feature sets,
  ``|mu_s - mu_r|^2 + tr(C_s + C_r - 2 (C_s C_r)^(1/2))``; the trace of the matrix square root is computed
  exactly (no ``scipy.linalg.sqrtm`` of a 2048 x 2048 product, which takes minutes on a CPU): from the
  singular values of the centred features' cross product when a set has fewer images than dimensions, else
  from symmetric eigendecompositions (:func:`frechet_distance`; tests check both against ``sqrtm``).
  It is biased upward when a set is small: with fewer images than feature dimensions the covariance is
  rank-deficient, and a 1-shot synthetic set of a few hundred images gives a larger FID than a large set from
  the same distribution would. Compare FIDs only between runs with the same image counts and features.
- ``kid``: the squared maximum mean discrepancy with the polynomial kernel ``k(x, y) = (x.y / d + 1)^3``,
  unbiased estimator, averaged over ``subsets`` random subsets of ``subset_size`` images per side (its own
  settings, ``evaluate.metrics.kid``; Bińkowski et al., 2018); unbiased for any set size, so better suited to
  small sets. Its standard deviation over the subsets is reported as ``kid_std``.

This module needs numpy alone; the encoders import their models when they load.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from dalda.metrics.spec import MetricSettings


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


class FidSettings(MetricSettings):
    enabled: bool = Field(
        False, description="Compute FID of the synthetic images vs the real evaluation images (lower = closer)."
    )


class KidSettings(MetricSettings):
    enabled: bool = Field(
        False, description="Compute KID (unbiased polynomial-kernel MMD) of synthetic vs real evaluation images."
    )
    subset_size: int = Field(
        100, ge=2, le=10_000_000,
        description="Images per side in each subset (capped by the set sizes).",
    )
    subsets: int = Field(100, ge=1, le=100_000, description="Number of random subsets averaged.")


class Fid:
    name = "fid"
    title = "FID"
    kind = "fidelity"
    higher_is_more_diverse = False
    settings_model = FidSettings

    def compute(self, synthetic: np.ndarray, real: np.ndarray, settings: FidSettings, seed: int) -> dict[str, Any]:
        return {"fid": frechet_distance(synthetic, real)}


class Kid:
    name = "kid"
    title = "KID"
    kind = "fidelity"
    higher_is_more_diverse = False
    settings_model = KidSettings

    def compute(self, synthetic: np.ndarray, real: np.ndarray, settings: KidSettings, seed: int) -> dict[str, Any]:
        """KID's mean, and beside it its spread and the subsets it was drawn from (the subset size as used)."""
        mean, std = kernel_inception_distance(synthetic, real, settings.subset_size, settings.subsets, seed)
        size = min(settings.subset_size, len(synthetic), len(real))
        return {"kid": mean, "kid_std": std, "kid_subset_size": size, "kid_subsets": settings.subsets}
