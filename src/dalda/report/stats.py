"""Summary statistics and the significance test of the paper's Tab. 3 (Appendix A).

Spread is the sample standard deviation (ddof=1), as reported with "mean ± std over trials". The test is
Welch's two-sample t-test (unequal variances; ``scipy.stats.ttest_ind(equal_var=False)``), two-sided. With
fewer than two values on a side, no test is possible: t and p are NaN rather than a misleading number.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Summary:
    mean: float
    std: float | None
    """Sample standard deviation; None for a single value."""
    n: int


@dataclass(frozen=True)
class WelchTest:
    mean_a: float
    mean_b: float
    difference: float
    """mean_a - mean_b."""
    statistic: float
    pvalue: float
    n_a: int
    n_b: int


def summarize(values: Sequence[float]) -> Summary | None:
    """Mean, sample std and count; None for no values."""
    if not values:
        return None
    array = np.asarray(values, dtype=float)
    std = float(array.std(ddof=1)) if len(array) > 1 else None
    return Summary(mean=float(array.mean()), std=std, n=len(array))


def welch_test(a: Sequence[float], b: Sequence[float]) -> WelchTest:
    """Welch's t-test of ``a`` against ``b`` (two-sided); NaN statistic and p-value when a side has < 2 values."""
    if not a or not b:
        raise ValueError("a t-test needs at least one value on each side")
    statistic = pvalue = math.nan
    if len(a) >= 2 and len(b) >= 2:
        with warnings.catch_warnings():  # zero variance on both sides: scipy warns and returns NaN, as we want
            warnings.simplefilter("ignore", RuntimeWarning)
            result = stats.ttest_ind(np.asarray(a, float), np.asarray(b, float), equal_var=False)
        statistic, pvalue = float(result.statistic), float(result.pvalue)
    mean_a, mean_b = float(np.mean(a)), float(np.mean(b))
    return WelchTest(mean_a, mean_b, mean_a - mean_b, statistic, pvalue, len(a), len(b))
