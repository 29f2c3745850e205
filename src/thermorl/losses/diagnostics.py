"""Update diagnostics: how far the policy moved, how often clipping bit, how good V is."""

from __future__ import annotations

import torch
from torch import Tensor

from .masked import masked_mean


def approx_kl(log_ratio: Tensor, mask: Tensor | None = None) -> Tensor:
    """KL(pi_old || pi) by the k3 estimator E[(rho - 1) - log rho]: unbiased, never negative
    (Schulman, "Approximating KL divergence", 2020)."""
    return masked_mean(torch.expm1(log_ratio) - log_ratio, mask)


def clip_fraction(ratio: Tensor, clip_coef: float, mask: Tensor | None = None) -> Tensor:
    """Fraction of samples whose ratio left [1 - eps, 1 + eps]."""
    return masked_mean(((ratio - 1.0).abs() > clip_coef).to(ratio.dtype), mask)


def explained_variance(pred: Tensor, target: Tensor, mask: Tensor | None = None) -> Tensor:
    """1 - Var[target - pred] / Var[target]: 1 is perfect, 0 is no better than a constant.

    NaN when the targets have no variance (nothing to explain)."""
    def var(x: Tensor) -> Tensor:
        return masked_mean((x - masked_mean(x, mask)).square(), mask)
    v = var(target)
    return torch.where(v > 0, 1.0 - var(target - pred) / v, torch.full_like(v, float("nan")))
