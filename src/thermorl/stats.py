"""Statistics for comparing runs across seeds.

A handful of seeds is the usual budget, so the spread of a mean is reported as a bootstrap
interval, which assumes nothing about the shape of the return distribution, rather than as
mean +/- 1.96 standard errors, which leans on normality that five numbers cannot show.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["bootstrap_ci"]

# Resampled values drawn per chunk: bounds memory to about 8 MB whatever the sample size.
_CHUNK_VALUES = 1_000_000


def bootstrap_ci(values: Sequence[float], level: float = 0.95, resamples: int = 10_000,
                 seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the mean of `values`.

    Draw `resamples` samples of size n = len(values) with replacement, take each one's mean
    m*_1..m*_B, and return their (1 - level)/2 and (1 + level)/2 quantiles (Efron, "Bootstrap
    methods: another look at the jackknife", 1979; Efron & Tibshirani, "An Introduction to the
    Bootstrap", 1993, ch. 13). The quantiles are numpy's default, linear between order
    statistics.

    The generator is `numpy.random.default_rng(seed)`, so the same inputs always give the same
    interval. With one value, or values all equal, every resample has the same mean and the
    interval is that value, of zero width. With few values the interval is too narrow (the
    bootstrap cannot see tails the sample lacks): three seeds give at most 10 distinct
    resample means.
    """
    x = np.asarray(values, dtype=float).ravel()
    if x.size == 0:
        raise ValueError("bootstrap_ci needs at least one value, got none")
    if not np.isfinite(x).all():
        bad = x[~np.isfinite(x)][0]
        raise ValueError(f"bootstrap_ci needs finite values, got {bad}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    if isinstance(resamples, bool) or not isinstance(resamples, (int, np.integer)) \
            or resamples < 1:
        raise ValueError(f"resamples must be a positive integer, got {resamples!r}")
    if x.size == 1 or np.all(x == x[0]):
        # every resample is the sample itself; skip the draws and their rounding
        return float(x[0]), float(x[0])
    rng = np.random.default_rng(seed)
    n = x.size
    per_chunk = max(1, _CHUNK_VALUES // n)
    means = np.empty(resamples)
    for start in range(0, resamples, per_chunk):
        stop = min(start + per_chunk, resamples)
        idx = rng.integers(0, n, size=(stop - start, n))
        means[start:stop] = x[idx].mean(axis=1)
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(means, [alpha, 1.0 - alpha])
    # a mean of values is never outside their range; quantile rounding must not say otherwise
    return float(max(lo, x.min())), float(min(hi, x.max()))
