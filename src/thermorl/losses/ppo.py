"""PPO's clipped surrogate and value losses (Schulman et al., 2017, arXiv:1707.06347)."""

from __future__ import annotations

import torch
from torch import Tensor

from .masked import masked_mean


def clipped_surrogate(ratio: Tensor, advantages: Tensor, clip_coef: float,
                      mask: Tensor | None = None) -> Tensor:
    """L = -E[min(rho * A, clip(rho, 1 - eps, 1 + eps) * A)], rho = pi(a|s) / pi_old(a|s).

    `ratio` is the joint ratio over all action heads. Where the clipped branch is the minimum,
    the gradient with respect to rho is zero: updates stop once the policy has moved far enough.
    """
    assert ratio.shape == advantages.shape, f"ratio {tuple(ratio.shape)} vs adv {tuple(advantages.shape)}"
    unclipped = ratio * advantages
    clipped = torch.clamp(ratio, 1.0 - clip_coef, 1.0 + clip_coef) * advantages
    return -masked_mean(torch.min(unclipped, clipped), mask)


def value_loss(values: Tensor, returns: Tensor, old_values: Tensor | None = None,
               clip_coef: float | None = None, mask: Tensor | None = None) -> Tensor:
    """0.5 * E[(V - R)^2], or with `clip_coef` the pessimistic clipped form

        0.5 * E[max((V - R)^2, (V_old + clip(V - V_old, -eps, eps) - R)^2)]

    which keeps the new value estimate from moving more than eps from the one used to collect.
    """
    assert values.shape == returns.shape, f"values {tuple(values.shape)} vs returns {tuple(returns.shape)}"
    err = (values - returns).square()
    if clip_coef is not None:
        assert old_values is not None, "the clipped value loss needs old_values"
        v_clipped = old_values + torch.clamp(values - old_values, -clip_coef, clip_coef)
        err = torch.max(err, (v_clipped - returns).square())
    return 0.5 * masked_mean(err, mask)
