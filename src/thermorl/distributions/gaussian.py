"""Diagonal Gaussian; log-std either per dimension (state-independent) or per state."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
HALF_LOG_2PIE = 0.5 * math.log(2 * math.pi * math.e)


def entropy_per_dim(std: float) -> float:
    """0.5 * log(2 pi e sigma^2), the entropy of one Gaussian dimension, in nats."""
    return HALF_LOG_2PIE + math.log(std)


@dataclass(frozen=True)
class DiagGaussian:
    """`mean`: [..., d]; `log_std`: [..., d] or [d] (shared across the batch)."""

    mean: Tensor
    log_std: Tensor

    def log_prob(self, action: Tensor) -> Tensor:
        """[..., d] -> [...]: sum over dims of -((a-mu)/sigma)^2/2 - log sigma - log(2 pi)/2."""
        z = (action - self.mean) * torch.exp(-self.log_std)
        return (-0.5 * z.square() - self.log_std - HALF_LOG_2PI).sum(-1)

    def entropy(self) -> Tensor:
        """[...]: sum over dims of 0.5 * log(2 pi e sigma^2)."""
        h = (self.log_std + HALF_LOG_2PIE).sum(-1)
        return h.expand(self.mean.shape[:-1])

    def sample(self, generator: torch.Generator | None = None, eps: Tensor | None = None) -> Tensor:
        """mean + std * eps with eps ~ N(0, 1) unless given (colored noise passes its own).

        Detached: the stored action is data, only the distribution's parameters carry gradient.
        """
        if eps is None:
            eps = torch.randn(self.mean.shape, generator=generator, dtype=self.mean.dtype,
                              device=self.mean.device)
        return (self.mean + self.log_std.exp() * eps).detach()

    def mode(self) -> Tensor:
        return self.mean
