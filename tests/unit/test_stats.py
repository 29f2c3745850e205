"""bootstrap_ci against the exact bootstrap distribution, enumerated by hand for tiny samples."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from thermorl.stats import bootstrap_ci


def exact_means(values: list[float]) -> np.ndarray:
    """All n^n equally likely resamples' means, sorted: the distribution the bootstrap draws
    from, with nothing left to chance."""
    n = len(values)
    return np.sort([np.mean(s) for s in itertools.product(values, repeat=n)])


def exact_quantile(means: np.ndarray, q: float) -> float:
    """The smallest mean whose cumulative probability reaches q."""
    cdf = np.arange(1, len(means) + 1) / len(means)
    return float(means[np.searchsorted(cdf, q - 1e-12)])


def test_three_values_by_hand() -> None:
    # [0, 0, 3]: a resample's mean is the number k of 3s it drew, k ~ Binomial(3, 1/3):
    # P(0) = 8/27, P(1) = 12/27, P(2) = 6/27, P(3) = 1/27 = 0.037.
    means = exact_means([0.0, 0.0, 3.0])
    assert np.array_equal(np.unique(means), [0, 1, 2, 3])
    assert [np.sum(means == k) for k in range(4)] == [8, 12, 6, 1]
    # 95%: the 2.5% point is inside k=0's 30%, and the 97.5% point inside k=3's last 3.7%
    assert bootstrap_ci([0.0, 0.0, 3.0]) == (0.0, 3.0)
    # 90%: P(k <= 2) = 26/27 = 0.963 is past 0.95, so the upper end drops to 2
    assert bootstrap_ci([0.0, 0.0, 3.0], level=0.90) == (0.0, 2.0)


@pytest.mark.parametrize("values", [[1.0, 2.0, 4.0, 10.0], [3.5, -1.0, 0.25, 7.0],
                                    [200.0, 500.0, 410.0]])
@pytest.mark.parametrize("level", [0.9, 0.95])
def test_matches_the_enumerated_distribution(values: list[float], level: float) -> None:
    means = exact_means(values)
    lo, hi = bootstrap_ci(values, level=level)
    a = (1 - level) / 2
    # 10,000 draws estimate a quantile's probability to about +/-0.002 (one s.e. at 2.5%);
    # +/-0.01 is five of them, so the check is tight but never flaky.
    assert exact_quantile(means, a - 0.01) <= lo <= exact_quantile(means, a + 0.01)
    assert exact_quantile(means, 1 - a - 0.01) <= hi <= exact_quantile(means, 1 - a + 0.01)


def test_constant_or_single_value_is_a_zero_width_interval() -> None:
    assert bootstrap_ci([7.25] * 5) == (7.25, 7.25)
    assert bootstrap_ci([-3.0]) == (-3.0, -3.0)
    assert bootstrap_ci(np.array([42.0])) == (42.0, 42.0)


def test_higher_level_is_wider() -> None:
    values = [1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 21.0]
    (lo80, hi80), (lo95, hi95), (lo99, hi99) = (bootstrap_ci(values, level=lv)
                                                for lv in (0.8, 0.95, 0.99))
    assert lo99 < lo95 < lo80 < np.mean(values) < hi80 < hi95 < hi99
    assert min(values) <= lo99 and hi99 <= max(values)


def test_fixed_seed_is_reproducible_and_the_seed_matters() -> None:
    # irregular values, so resample means rarely coincide and another seed shows
    values = list(np.random.default_rng(3).normal(size=7))
    assert bootstrap_ci(values) == bootstrap_ci(tuple(values))
    assert bootstrap_ci(values, seed=1) != bootstrap_ci(values, seed=0)
    # the chunked draws see the same generator stream as one draw would
    rng = np.random.default_rng(0)
    idx = rng.integers(0, len(values), size=(10_000, len(values)))
    want = np.quantile(np.asarray(values)[idx].mean(axis=1), [0.025, 0.975])
    assert bootstrap_ci(values) == pytest.approx(tuple(want), abs=1e-12)


def test_many_values_in_chunks_stay_close_to_the_normal_interval() -> None:
    # large n: the bootstrap interval of a mean approaches mean +/- 1.96 s / sqrt(n)
    x = np.random.default_rng(5).normal(10.0, 2.0, size=3000)
    lo, hi = bootstrap_ci(x, resamples=2000)
    half = 1.96 * x.std(ddof=1) / np.sqrt(len(x))
    assert lo == pytest.approx(x.mean() - half, abs=0.2 * half)
    assert hi == pytest.approx(x.mean() + half, abs=0.2 * half)


@pytest.mark.parametrize("kwargs, message", [
    ({"values": []}, "at least one value"),
    ({"values": [1.0, float("nan")]}, "finite values, got nan"),
    ({"values": [1.0, 2.0], "level": 1.0}, "level must be in (0, 1), got 1.0"),
    ({"values": [1.0, 2.0], "level": 0}, "got 0"),
    ({"values": [1.0, 2.0], "resamples": 0}, "resamples must be a positive integer, got 0"),
    ({"values": [1.0, 2.0], "resamples": 10.5}, "got 10.5"),
])
def test_bad_arguments_name_the_value(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError) as e:
        bootstrap_ci(**kwargs)
    assert message in str(e.value)
