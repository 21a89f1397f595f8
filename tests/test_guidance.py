"""Lambda strategies: the AGS truncated normal (paper Eq. 2-3), the authors' clipped variant, RS and fixed."""

import numpy as np
import pytest
from scipy import stats

from dalda.config import GuidanceConfig
from dalda.planning.guidance import ags_parameters, sample_lambdas
from dalda.scorers import clipscore_group

PAPER = GuidanceConfig()


@pytest.mark.parametrize(
    ("score", "group", "mu"),
    [
        (0.0, "low", 0.9),  # Low: min_low + (max_low - min_low) * (1 - 0) = 0.9
        (0.3, "low", 0.7 + 0.2 * 0.7),  # alpha itself is Low (score <= alpha)
        (0.3000001, "high", 0.1 + 0.3 * 0.6999999),
        (0.5, "high", 0.25),
        (1.0, "high", 0.1),
    ],
)
def test_mu_formula_and_group_boundary(score, group, mu):
    params = ags_parameters(score, shots=1, cfg=PAPER)
    assert params.group == group
    assert params.mu == pytest.approx(mu)
    assert (params.low, params.high) == ((0.7, 0.9) if group == "low" else (0.1, 0.4))


def test_sigma_grows_with_shots():
    assert [ags_parameters(0.5, n, PAPER).sigma for n in (1, 2, 4, 8, 16)] == pytest.approx(
        [0.05, 0.1, 0.2, 0.4, 0.8]
    )


def test_group_threshold_is_configurable():
    assert clipscore_group(0.5, alpha=0.6) == "low"
    assert clipscore_group(0.5, alpha=0.4) == "high"


@pytest.mark.parametrize("score", [0.0, 0.15, 0.3, 0.31, 0.6, 0.95, 1.0])
@pytest.mark.parametrize("shots", [1, 4, 16])
def test_truncated_samples_always_in_range(score, shots):
    lambdas, group = sample_lambdas(PAPER, 5000, np.random.default_rng(1), score=score, shots=shots)
    low, high = (0.7, 0.9) if group == "low" else (0.1, 0.4)
    assert lambdas.min() >= low and lambdas.max() <= high


@pytest.mark.parametrize(("score", "shots"), [(0.9, 1), (0.2, 1), (0.6, 4), (0.05, 16)])
def test_truncated_matches_scipy_truncnorm(score, shots):
    params = ags_parameters(score, shots, PAPER)
    lambdas, _ = sample_lambdas(PAPER, 4000, np.random.default_rng(7), score=score, shots=shots)
    a, b = (params.low - params.mu) / params.sigma, (params.high - params.mu) / params.sigma
    reference = stats.truncnorm(a, b, loc=params.mu, scale=params.sigma)
    assert stats.kstest(lambdas, reference.cdf).pvalue > 0.01
    # and it is not just any distribution on the range: a plain uniform there is rejected (small sigma only)
    if shots == 1:
        assert stats.kstest(lambdas, stats.uniform(params.low, params.high - params.low).cdf).pvalue < 1e-6


def test_mean_lambda_falls_as_score_rises():
    rng = np.random.default_rng(3)
    means = [sample_lambdas(PAPER, 4000, rng, score=s, shots=1)[0].mean() for s in (0.31, 0.5, 0.7, 0.9, 1.0)]
    assert all(earlier > later for earlier, later in zip(means, means[1:]))
    low_means = [sample_lambdas(PAPER, 4000, rng, score=s, shots=1)[0].mean() for s in (0.0, 0.1, 0.2, 0.3)]
    assert all(earlier > later for earlier, later in zip(low_means, low_means[1:]))
    assert min(low_means) > max(means)  # any Low image keeps more of its real image than any High one


def test_spread_grows_with_shots():
    rng = np.random.default_rng(4)
    spreads = [sample_lambdas(PAPER, 4000, rng, score=0.6, shots=n)[0].std() for n in (1, 2, 4)]
    assert spreads[0] < spreads[1] < spreads[2]


def test_clipped_variant_puts_mass_on_bounds():
    clipped = PAPER.model_copy(update={"ags_variant": "clipped"})
    rng = np.random.default_rng(5)
    lambdas, group = sample_lambdas(clipped, 20000, rng, score=0.0, shots=4)  # Low, mu = 0.9, sigma = 0.2
    assert group == "low"
    assert np.mean(lambdas == 0.9) > 0.4 and np.mean(lambdas == 0.7) > 0.1
    high, _ = sample_lambdas(clipped, 20000, rng, score=1.0, shots=4)  # High, mu = 0.1: upper clamp 0.4 + 0.2
    assert np.mean(high == 0.1) > 0.4
    assert high.max() == pytest.approx(0.6) and np.mean(high > 0.4) > 0.0
    truncated, _ = sample_lambdas(PAPER, 20000, rng, score=0.0, shots=4)
    assert np.mean(truncated == 0.9) == 0.0  # the paper's truncated normal has no atoms


def test_random_and_fixed_strategies():
    random_cfg = GuidanceConfig(strategy="random")
    lambdas, group = sample_lambdas(random_cfg, 5000, np.random.default_rng(0))
    assert group is None and lambdas.min() >= 0 and lambdas.max() <= 1
    assert stats.kstest(lambdas, stats.uniform(0, 1).cdf).pvalue > 0.01
    fixed, _ = sample_lambdas(GuidanceConfig(strategy="fixed", fixed_scale=0.3), 4, np.random.default_rng(0))
    assert fixed.tolist() == [0.3] * 4


def test_sampling_is_reproducible_from_seed():
    first, _ = sample_lambdas(PAPER, 10, np.random.default_rng(11), score=0.8, shots=2)
    second, _ = sample_lambdas(PAPER, 10, np.random.default_rng(11), score=0.8, shots=2)
    assert first.tolist() == second.tolist()


def test_ags_without_score_is_a_clear_error():
    with pytest.raises(ValueError, match="dalda score"):
        sample_lambdas(PAPER, 3, np.random.default_rng(0))


def test_score_outside_unit_interval_is_rejected():
    with pytest.raises(ValueError, match="outside"):
        ags_parameters(1.5, 1, PAPER)
