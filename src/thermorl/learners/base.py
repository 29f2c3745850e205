"""What every learner shares: named metrics in, checked, and averaged."""

from __future__ import annotations

import math
from typing import Any, Iterable, Mapping, Protocol

from ..errors import LossNotFinite


class Learner(Protocol):
    """Owns the networks' optimizers, gradient clipping and projections. `update` takes one
    batch (a PPO rollout, a SAC replay sample) and the training progress (0 to 1, for
    schedules) and returns named metrics: a key added where a learner computes its terms
    reaches the CSV, TensorBoard, callbacks and plots by that name."""

    def update(self, batch: Any, progress: float) -> dict[str, float]: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: Mapping[str, Any]) -> None: ...


def check_finite(stats: Mapping[str, float], names: Iterable[str]) -> None:
    """Stop on the first of `names` that is NaN or Inf, naming it."""
    for name in names:
        if not math.isfinite(stats[name]):
            raise LossNotFinite(name, stats[name])


class Means:
    """Running means of named values; a NaN (a head unused in a minibatch) adds nothing. Keys
    given up front are reported (as 0) even if no value ever arrives."""

    def __init__(self, keys: Iterable[str] = ()):
        self.sums = dict.fromkeys(keys, 0.0)
        self.counts = dict.fromkeys(keys, 0)

    def add(self, values: Mapping[str, float]) -> None:
        for k, v in values.items():
            if k not in self.sums:
                self.sums[k], self.counts[k] = 0.0, 0
            if v == v:
                self.sums[k] += v
                self.counts[k] += 1

    def count(self, key: str) -> int:
        return self.counts.get(key, 0)

    def means(self) -> dict[str, float]:
        return {k: s / max(self.counts[k], 1) for k, s in self.sums.items()}
