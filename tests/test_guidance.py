"""λ samplers: the AGS truncated normal (paper Eq. 2-3), the authors' clipped variant, RS and fixed, by entry."""

import numpy as np
import pytest
from scipy import stats

from dalda.configure import build_config
from dalda.guidance import GUIDANCE, AgsSettings, FixedSettings, RandomSettings, SamplingContext, clipscore_group

PAPER = GUIDANCE.get("ags").bind(AgsSettings(), SamplingContext(shots=1, default_alpha=0.3))


def ags(shots: int = 1, clipped: bool = False, **settings):
    sampler = GUIDANCE.get("ags-clipped" if clipped else "ags")
    return sampler.bind(AgsSettings(**settings), SamplingContext(shots=shots, default_alpha=0.3))


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
    params = PAPER.parameters(score)
    assert params.group == group
    assert params.mu == pytest.approx(mu) == PAPER.centre(score)
    assert (params.low, params.high) == ((0.7, 0.9) if group == "low" else (0.1, 0.4)) == PAPER.band(score)


def test_sigma_grows_with_shots():
    assert [ags(n).parameters(0.5).sigma for n in (1, 2, 4, 8, 16)] == pytest.approx([0.05, 0.1, 0.2, 0.4, 0.8])


def test_group_threshold_is_the_setting_else_the_scorers_default_else_a_quantile():
    assert clipscore_group(0.5, alpha=0.6) == "low" and clipscore_group(0.5, alpha=0.4) == "high"
    sampler = GUIDANCE.get("ags")
    assert sampler.bind(AgsSettings(alpha=0.6), SamplingContext(1, default_alpha=0.2)).threshold == 0.6
    assert sampler.bind(AgsSettings(), SamplingContext(1, default_alpha=0.2)).threshold == 0.2
    quantile = sampler.bind(AgsSettings(alpha_quantile=0.5), SamplingContext(1, [0.1, 0.2, 0.9], 0.2))
    assert quantile.threshold == pytest.approx(0.2)
    unscored = sampler.bind(AgsSettings(alpha_quantile=0.5), SamplingContext(1, [], 0.2))
    with pytest.raises(ValueError, match="dalda score"):
        unscored.draw(3, 0.5, np.random.default_rng(0))


@pytest.mark.parametrize("score", [0.0, 0.15, 0.3, 0.31, 0.6, 0.95, 1.0])
@pytest.mark.parametrize("shots", [1, 4, 16])
def test_truncated_samples_always_in_range(score, shots):
    sampler = ags(shots)
    lambdas = sampler.draw(5000, score, np.random.default_rng(1))
    low, high = sampler.band(score)
    assert lambdas.min() >= low and lambdas.max() <= high


@pytest.mark.parametrize(("score", "shots"), [(0.9, 1), (0.2, 1), (0.6, 4), (0.05, 16)])
def test_truncated_matches_scipy_truncnorm(score, shots):
    sampler = ags(shots)
    params = sampler.parameters(score)
    lambdas = sampler.draw(4000, score, np.random.default_rng(7))
    a, b = (params.low - params.mu) / params.sigma, (params.high - params.mu) / params.sigma
    reference = stats.truncnorm(a, b, loc=params.mu, scale=params.sigma)
    assert stats.kstest(lambdas, reference.cdf).pvalue > 0.01
    # and it is not just any distribution on the range: a plain uniform there is rejected (small sigma only)
    if shots == 1:
        assert stats.kstest(lambdas, stats.uniform(params.low, params.high - params.low).cdf).pvalue < 1e-6


def test_mean_lambda_falls_as_score_rises():
    rng = np.random.default_rng(3)
    means = [PAPER.draw(4000, s, rng).mean() for s in (0.31, 0.5, 0.7, 0.9, 1.0)]
    assert all(earlier > later for earlier, later in zip(means, means[1:]))
    low_means = [PAPER.draw(4000, s, rng).mean() for s in (0.0, 0.1, 0.2, 0.3)]
    assert all(earlier > later for earlier, later in zip(low_means, low_means[1:]))
    assert min(low_means) > max(means)  # any Low image keeps more of its real image than any High one


def test_spread_grows_with_shots():
    rng = np.random.default_rng(4)
    spreads = [ags(n).draw(4000, 0.6, rng).std() for n in (1, 2, 4)]
    assert spreads[0] < spreads[1] < spreads[2]


def test_clipped_variant_puts_mass_on_bounds():
    clipped = ags(4, clipped=True)
    rng = np.random.default_rng(5)
    lambdas = clipped.draw(20000, 0.0, rng)  # Low, mu = 0.9, sigma = 0.2
    assert np.mean(lambdas == 0.9) > 0.4 and np.mean(lambdas == 0.7) > 0.1
    high = clipped.draw(20000, 1.0, rng)  # High, mu = 0.1: upper clamp 0.4 + 0.1 * sqrt(4)
    assert np.mean(high == 0.1) > 0.4
    assert high.max() == pytest.approx(0.6) == clipped.band(1.0)[1] and np.mean(high > 0.4) > 0.0
    truncated = ags(4).draw(20000, 0.0, rng)
    assert np.mean(truncated == 0.9) == 0.0  # the paper's truncated normal has no atoms


def test_random_and_fixed_samplers():
    uniform = GUIDANCE.get("random").bind(RandomSettings(), SamplingContext(1))
    lambdas = uniform.draw(5000, None, np.random.default_rng(0))
    assert uniform.threshold is None and lambdas.min() >= 0 and lambdas.max() <= 1
    assert stats.kstest(lambdas, stats.uniform(0, 1).cdf).pvalue > 0.01
    assert uniform.band(0.3) == (0.0, 1.0)
    fixed = GUIDANCE.get("fixed").bind(FixedSettings(fixed_scale=0.3), SamplingContext(1))
    assert fixed.draw(4, None, np.random.default_rng(0)).tolist() == [0.3] * 4 and fixed.band(0.9) == (0.3, 0.3)


def test_sampling_is_reproducible_from_seed():
    sampler = ags(2)
    first = sampler.draw(10, 0.8, np.random.default_rng(11))
    second = sampler.draw(10, 0.8, np.random.default_rng(11))
    assert first.tolist() == second.tolist()


def test_ags_without_score_is_a_clear_error():
    with pytest.raises(ValueError, match="dalda score"):
        PAPER.draw(3, None, np.random.default_rng(0))


def test_score_outside_unit_interval_is_rejected():
    with pytest.raises(ValueError, match="outside"):
        PAPER.parameters(1.5)


def test_each_sampler_owns_its_settings_in_the_config():
    fixed = build_config(overrides=["guidance.strategy=fixed", "guidance.fixed_scale=0.2"])
    assert fixed.guidance.entry_values() == {"fixed_scale": 0.2}
    assert set(build_config().guidance.entry_values()) == set(AgsSettings.model_fields)
    with pytest.raises(ValueError, match="guidance.fixed_scale is a setting of guidance.strategy=fixed"):
        build_config(overrides=["guidance.fixed_scale=0.2"])  # AGS has no fixed λ: the override was a mistake
    with pytest.raises(ValueError, match="guidance.min_low=0.8 is greater than guidance.max_low=0.75"):
        build_config(overrides=["guidance.min_low=0.8", "guidance.max_low=0.75"])
    with pytest.raises(ValueError, match="both set"):
        build_config(overrides=["guidance.alpha=0.2", "guidance.alpha_quantile=0.5"])


def test_old_spelling_ags_variant_becomes_the_clipped_sampler():
    with pytest.warns(DeprecationWarning, match="guidance.ags_variant is now"):
        config = build_config({"guidance": {"strategy": "ags", "ags_variant": "clipped", "alpha": 0.3,
                                            "alpha_quantile": 0.25, "random_min": 0.0, "fixed_scale": 0.5}})
    # a config written with ags_variant froze the scorer's alpha beside the quantile: the quantile is kept
    assert config.guidance.strategy == "ags-clipped"
    assert config.guidance.alpha is None and config.guidance.alpha_quantile == 0.25


def test_every_sampler_reads_its_own_method_part_back_and_no_other_reads_it():
    """A grid's method name (``llm-fixed-0.3``) is resolved by asking the samplers (``dalda.methods``)."""
    for name, sampler in GUIDANCE.items():
        part = sampler.method_part(sampler.settings_model())
        values = sampler.method_settings(part)
        assert values is not None and sampler.method_part(sampler.settings_model(**values)) == part, name
        assert [key for key, other in GUIDANCE.items() if other.method_settings(part) is not None] == [name]
    fixed = GUIDANCE.get("fixed")
    assert fixed.method_settings("fixed-0.50") == {"fixed_scale": 0.5}
    assert fixed.method_settings("fixed-1") == {"fixed_scale": 1.0}
    for other in ("fixed-", "fixed-abc", "fixed-1e-1", "fixed--0.5", "fixed-0.5.1", "fixed-nan", "ags", "rs"):
        assert fixed.method_settings(other) is None, other
    assert fixed.fixed_lambda(FixedSettings(fixed_scale=0.3)) == 0.3
    assert GUIDANCE.get("ags").fixed_lambda(AgsSettings()) is None
    assert GUIDANCE.get("random").fixed_lambda(RandomSettings()) is None
