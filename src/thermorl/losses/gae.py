"""Generalized Advantage Estimation (Schulman et al., 2016, arXiv:1506.02438)."""

from __future__ import annotations

import torch
from torch import Tensor


def gae(rewards: Tensor, values: Tensor, next_values: Tensor, terminated: Tensor,
        episode_end: Tensor, gamma: float, lam: float) -> tuple[Tensor, Tensor]:
    """Advantages and value targets for a rollout of T steps from N envs, all [T, N].

        delta_t = r_t + gamma * (1 - terminated_t) * V(s'_t) - V(s_t)
        A_t     = delta_t + gamma * lam * (1 - end_t) * A_{t+1}
        R_t     = A_t + V(s_t)

    `next_values[t]` is V of the observation that followed step t, before any reset: the final
    observation when an episode ended there. A time-limit truncation ends the episode
    (`episode_end`) but is not `terminated`, so it still bootstraps from V(s'_t); only a true
    termination cuts the bootstrap. `episode_end` stops the recursion from reaching across
    episodes either way.
    """
    assert rewards.dim() == 2, f"rewards must be [T, N], got {tuple(rewards.shape)}"
    for name, t in (("values", values), ("next_values", next_values),
                    ("terminated", terminated), ("episode_end", episode_end)):
        assert t.shape == rewards.shape, f"{name} {tuple(t.shape)} vs rewards {tuple(rewards.shape)}"
    not_term = 1.0 - terminated.to(values.dtype)
    carry = gamma * lam * (1.0 - episode_end.to(values.dtype))
    deltas = rewards + gamma * not_term * next_values - values
    adv = torch.empty_like(values)
    last = torch.zeros_like(values[0])
    # Python over T with vector ops over N: T is short (a rollout), N is batched.
    for t in range(rewards.shape[0] - 1, -1, -1):
        last = deltas[t] + carry[t] * last
        adv[t] = last
    return adv, adv + values
