"""PPO's losses per sample, with their derivatives in closed form, for the fused update path.

`losses/ppo.py` defines the losses as masked means; autograd differentiates them. For small MLP
policies the autograd graph costs more than the arithmetic, so the fused path (`nets/fused.py`,
`algos/ppo_fused.py`) takes per-sample terms and derivatives from here, weights them by
w_i = m_i / max(sum m, 1) itself (the masked mean's weights), and writes the gradients by hand.
The tests hold the result to autograd's on the functions of `losses/ppo.py`.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor


class SurrogateTerms(NamedTuple):
    objective: Tensor   # [B] min(rho A, clip(rho) A): loss/policy = -sum_i w_i objective_i
    grad_log_prob: Tensor  # [B] d objective_i / d log pi(a_i|s_i) (the joint log-prob)
    ratio: Tensor       # [B] rho = pi / pi_old, for the diagnostics


def clipped_surrogate_terms(log_ratio: Tensor, adv: Tensor, clip_coef: float) -> SurrogateTerms:
    """Per sample, min(rho A, clip(rho, 1 - eps, 1 + eps) A) with rho = exp(log_ratio), and its
    derivative with respect to log pi: rho A where the unclipped branch is the minimum, else 0.
    At a tie rho is inside the clip range, where both branches have the same slope."""
    assert log_ratio.shape == adv.shape, (
        f"log_ratio {tuple(log_ratio.shape)} vs adv {tuple(adv.shape)}")
    ratio = log_ratio.exp()
    unclipped = ratio * adv
    clipped = ratio.clamp(1.0 - clip_coef, 1.0 + clip_coef) * adv
    unclipped_is_min = unclipped <= clipped
    objective = torch.where(unclipped_is_min, unclipped, clipped)
    grad = torch.where(unclipped_is_min, unclipped, 0.0)
    return SurrogateTerms(objective, grad, ratio)


def value_error_terms(values: Tensor, returns: Tensor, old_values: Tensor | None = None,
                      clip_coef: float | None = None) -> tuple[Tensor, Tensor]:
    """Per sample, (e, d(e / 2) / dV) with e = (V - R)^2, or with `clip_coef` the pessimistic
    e = max((V - R)^2, (V_old + clip(V - V_old, -eps, eps) - R)^2): loss/value = 0.5 sum w e.

    In the clipped form the derivative follows the larger error; through the clipped one it is
    zero once V has left [V_old - eps, V_old + eps]."""
    assert values.shape == returns.shape, (
        f"values {tuple(values.shape)} vs returns {tuple(returns.shape)}")
    diff = values - returns
    err = diff.square()
    if clip_coef is None:
        return err, diff
    assert old_values is not None, "the clipped value loss needs old_values"
    delta = values - old_values
    diff_c = old_values + delta.clamp(-clip_coef, clip_coef) - returns
    err_c = diff_c.square()
    inside = delta.abs() <= clip_coef
    grad = torch.where(err >= err_c, diff, torch.where(inside, diff_c, 0.0))
    return torch.maximum(err, err_c), grad
