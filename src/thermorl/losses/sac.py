"""Soft Actor-Critic losses (Haarnoja et al., 2018; discrete: Christodoulou, 2019), pure.

The policy is a product of named heads. Q(s, a) takes the continuous heads' squashed actions
as input and has one output per *joint* discrete action (the product of every discrete head's
choices; one output when there is no discrete head). So expectations over discrete heads are
exact sums with the joint probabilities, and continuous heads are sampled (reparameterized in
the actor loss). Per head h with temperature alpha_h, the entropy term of a state is

    bonus(s) = sum_h alpha_h * H_h(s),

with H_h the exact entropy of a discrete head and -log pi_h(a_h | s) of a sampled action for a
continuous one (an unbiased one-sample estimate). Everything here is [B] or [B, K] tensors; K is
the number of joint discrete actions.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor


def entropy_bonus(alphas: Mapping[str, float], entropies: Mapping[str, Tensor]) -> Tensor:
    """sum_h alpha_h * H_h per sample: [B] for each head -> [B]."""
    heads = list(entropies)
    assert heads and set(alphas) >= set(heads), (list(alphas), heads)
    shape = entropies[heads[0]].shape
    assert all(entropies[h].shape == shape and len(shape) == 1 for h in heads), \
        {h: tuple(e.shape) for h, e in entropies.items()}
    return sum(alphas[h] * entropies[h] for h in heads)  # type: ignore[return-value]


def soft_value(q: Tensor, bonus: Tensor, probs: Tensor | None = None) -> Tensor:
    """V(s) = sum_a P(a | s) Q(s, a) + bonus(s): [B, K] Q-values, [B] bonus, [B, K] joint
    probabilities of the discrete actions (None when K = 1) -> [B]."""
    assert q.dim() == 2 and bonus.shape == q.shape[:1], (q.shape, bonus.shape)
    if probs is None:
        assert q.shape[1] == 1, f"{q.shape[1]} Q outputs need their probabilities"
        return q[:, 0] + bonus
    assert probs.shape == q.shape, (probs.shape, q.shape)
    return (probs * q).sum(-1) + bonus


def soft_q_target(reward: Tensor, terminated: Tensor, next_value: Tensor,
                  gamma: float) -> Tensor:
    """y = r + gamma * (1 - terminated) * V_target(s'), all [B].

    `next_value` is `soft_value` of s' with the minimum of the twin target critics and the
    current policy at s'. Only termination cuts the bootstrap: a time-limit truncation keeps it,
    with s' the real final observation."""
    assert reward.shape == terminated.shape == next_value.shape and reward.dim() == 1, \
        (reward.shape, terminated.shape, next_value.shape)
    return reward + gamma * (1.0 - terminated) * next_value


def critic_loss(q1: Tensor, q2: Tensor, target: Tensor) -> Tensor:
    """0.5 * (mean (Q1 - y)^2 + mean (Q2 - y)^2): Q_i at the stored actions, [B] each; `target`
    is treated as a constant."""
    assert q1.shape == q2.shape == target.shape and q1.dim() == 1, \
        (q1.shape, q2.shape, target.shape)
    y = target.detach()
    return 0.5 * ((q1 - y).square().mean() + (q2 - y).square().mean())


def actor_loss(q: Tensor, bonus: Tensor, probs: Tensor | None = None) -> Tensor:
    """-mean_s V(s) with the current policy: minimizing it maximizes soft value.

    Continuous (K = 1, `probs` None): q = min_i Q_i(s, a), a = tanh(mean + std * eps) keeping
    its gradient, bonus = -alpha * log pi(a | s), so the loss is mean(alpha * log pi - Q).
    Discrete: q = min_i Q_i(s, .) held constant, and the loss is
    mean(sum_a pi(a | s) * (alpha * log pi(a | s) - Q(s, a))), the expectation taken exactly.
    Hybrid: both at once, `probs` the joint discrete probabilities at the sampled continuous
    action."""
    return -soft_value(q, bonus, probs).mean()


def joint_log_probs(parts: list[Tensor]) -> Tensor:
    """log P of every joint choice of independent categoricals: [B, n_i] each -> [B, prod n_i],
    the first part's index varying slowest (as `joint_index` numbers them)."""
    assert parts and all(p.dim() == 2 for p in parts), [tuple(p.shape) for p in parts]
    out = parts[0]
    for lp in parts[1:]:
        out = (out.unsqueeze(-1) + lp.unsqueeze(-2)).flatten(-2)
    return out


def joint_index(choices: list[Tensor], sizes: list[int]) -> Tensor:
    """The joint action's column in `joint_log_probs`: [B] integer choices per part -> [B]."""
    assert len(choices) == len(sizes) and choices
    idx = torch.zeros_like(choices[0], dtype=torch.long)
    for c, n in zip(choices, sizes):
        idx = idx * n + c.long()
    return idx
