"""Running statistics for observation normalization and reward scaling."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor


class RunningMeanStd:
    """Mean and variance over every sample seen, merged batch by batch (Chan et al., 1979).
    Kept in float64 numpy: the counts grow large and float32 loses the small updates."""

    def __init__(self, shape: tuple[int, ...] = ()):
        self.mean = np.zeros(shape, np.float64)
        self.var = np.ones(shape, np.float64)
        self.count = 1e-4  # a tiny prior count avoids dividing by zero before the first batch

    def update(self, batch: np.ndarray) -> None:
        self.merge(batch.mean(0), batch.var(0), batch.shape[0])

    def merge(self, b_mean: np.ndarray, b_var: np.ndarray, n: float) -> None:
        """Add the statistics of `n` samples with mean `b_mean` and variance `b_var` (what
        another process saw), as if they had come through `update`."""
        if n <= 0:
            return
        total = self.count + n
        delta = b_mean - self.mean
        # asarray: for a scalar statistic numpy hands back float64 scalars, not arrays
        self.mean = np.asarray(self.mean + delta * n / total, np.float64)
        m2 = self.var * self.count + b_var * n + delta**2 * self.count * n / total
        self.var = np.asarray(m2 / total, np.float64)
        self.count = total

    def since(self, earlier: dict[str, Tensor]) -> tuple[np.ndarray, np.ndarray, float]:
        """Mean, variance and count of the samples merged since `earlier` (a `state_dict` of
        this object), by undoing the merge: what a runner hands back so the learner can merge
        what it saw into its own statistics."""
        m0, v0 = earlier["mean"].numpy(), earlier["var"].numpy()
        c0 = float(earlier["count"])
        n = self.count - c0
        if n <= 0:
            return np.zeros_like(self.mean), np.ones_like(self.var), 0.0
        mean = (self.mean * self.count - m0 * c0) / n
        delta = mean - m0
        m2 = self.var * self.count - v0 * c0 - delta**2 * c0 * n / self.count
        return mean, np.maximum(m2 / n, 0.0), n

    def state_dict(self) -> dict[str, Tensor]:
        return {"mean": torch.from_numpy(self.mean.copy()), "var": torch.from_numpy(self.var.copy()),
                "count": torch.tensor(self.count, dtype=torch.float64)}

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        self.mean = state["mean"].numpy().copy()
        self.var = state["var"].numpy().copy()
        self.count = float(state["count"])


class ObsNormalizer:
    """(obs - mean) / sqrt(var + eps), clipped; statistics update only while training."""

    def __init__(self, shape: tuple[int, ...], clip: float, eps: float = 1e-8):
        self.rms, self.clip, self.eps = RunningMeanStd(shape), clip, eps

    def __call__(self, obs: np.ndarray, update: bool) -> np.ndarray:
        if update:
            self.rms.update(obs)
        out = (obs - self.rms.mean) / np.sqrt(self.rms.var + self.eps)
        return np.clip(out, -self.clip, self.clip).astype(np.float32)


class RewardScaler:
    """Divides rewards by the running std of the discounted return, not the reward's own std,
    which is what keeps value targets near unit scale (Engstrom et al., 2020)."""

    def __init__(self, num_envs: int, gamma: float, clip: float, eps: float = 1e-8):
        self.rms, self.gamma, self.clip, self.eps = RunningMeanStd(), gamma, clip, eps
        self.ret = np.zeros(num_envs, np.float64)

    def __call__(self, reward: np.ndarray, episode_end: np.ndarray) -> np.ndarray:
        self.ret = self.ret * self.gamma + reward
        self.rms.update(self.ret)
        self.ret[episode_end] = 0.0
        out = reward / np.sqrt(self.rms.var + self.eps)
        return np.clip(out, -self.clip, self.clip).astype(np.float32)
