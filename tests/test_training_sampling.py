"""The p-mixing sampler: synthetic rate, same-source rule, p = 0, reproducibility."""

import numpy as np
import pytest

from dalda.training.sampling import MixingSampler, build_pool


def _pool(num_real: int = 6, per_real: int = 4, without: int = 0):
    sources = [real for real in range(without, num_real) for _ in range(per_real)]
    return build_pool([real % 3 for real in range(num_real)], sources)


def _draw(sampler: MixingSampler, batches: int):
    drawn = list(sampler.batches(batches))
    return (np.concatenate([b.real for b in drawn]), np.concatenate([b.items for b in drawn]),
            np.concatenate([b.synthetic for b in drawn]))


@pytest.mark.parametrize("p", [0.5, 0.2, 0.9])
def test_synthetic_rate_matches_p(p):
    sampler = MixingSampler(_pool(), p, batch_size=32, seed=1)
    _, _, synthetic = _draw(sampler, 200)
    n = synthetic.size
    tolerance = 5 * np.sqrt(p * (1 - p) / n)  # 5 binomial standard deviations
    assert abs(synthetic.mean() - p) < tolerance
    assert sampler.stats.draws == n and sampler.stats.effective_rate == pytest.approx(synthetic.mean())


def test_synthetic_draws_come_only_from_the_same_real_image_and_cover_its_set():
    pool = _pool()
    sampler = MixingSampler(pool, 0.5, batch_size=32, seed=2)
    real, items, synthetic = _draw(sampler, 100)
    assert np.array_equal(items[~synthetic], real[~synthetic])
    for r, item in zip(real[synthetic], items[synthetic]):
        assert item - pool.num_real in pool.synthetic_of_real[r]
    # Uniform among the image's own synthetic images: every one of them is used, none far from its share.
    picks = np.bincount(items[synthetic] - pool.num_real, minlength=pool.num_synthetic)
    expected = synthetic.sum() / pool.num_synthetic
    assert picks.min() > 0.6 * expected and picks.max() < 1.4 * expected
    labels = pool.item_labels()
    assert np.array_equal(labels[items], labels[real])


def test_p_zero_never_draws_synthetic():
    sampler = MixingSampler(_pool(), 0.0, batch_size=32, seed=3)
    real, items, synthetic = _draw(sampler, 50)
    assert not synthetic.any() and np.array_equal(items, real)
    assert sampler.stats.effective_rate == 0.0


def test_real_image_without_synthetic_keeps_itself_and_rate_is_recorded():
    pool = _pool(num_real=4, without=2)  # real images 0 and 1 have no synthetic image
    sampler = MixingSampler(pool, 1.0, batch_size=32, seed=4)
    real, items, synthetic = _draw(sampler, 50)
    lonely = real < 2
    assert np.array_equal(items[lonely], real[lonely]) and not synthetic[lonely].any()
    assert synthetic[~lonely].all()
    assert sampler.stats.swaps_refused == lonely.sum()
    assert sampler.stats.effective_rate == pytest.approx(1 - lonely.mean())


def test_same_seed_same_draws_other_seed_other_draws():
    first = _draw(MixingSampler(_pool(), 0.5, 16, seed=7), 20)
    again = _draw(MixingSampler(_pool(), 0.5, 16, seed=7), 20)
    other = _draw(MixingSampler(_pool(), 0.5, 16, seed=8), 20)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not np.array_equal(first[1], other[1])


def test_pool_rejects_bad_sources():
    with pytest.raises(ValueError, match="outside"):
        build_pool([0, 1], [0, 2])
