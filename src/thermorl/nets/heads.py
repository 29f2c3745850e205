"""Action heads: a module per head that turns actor features into that head's distribution."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from ..distributions import Categorical, DiagGaussian
from ..envs.spaces import HeadSpec
from .mlp import linear

POLICY_GAIN = 0.01  # near-uniform / near-zero-mean actions at the start


class CategoricalHead(nn.Module):
    def __init__(self, n_in: int, n: int):
        super().__init__()
        self.logits = linear(n_in, n, POLICY_GAIN)

    def forward(self, features: Tensor, mask: Tensor | None = None) -> Categorical:
        return Categorical.from_logits(self.logits(features), mask)


class GaussianHead(nn.Module):
    """Mean from the features; log-std a learned per-dimension parameter (default) or a function
    of the state. Both stay within [log_std_min, log_std_max]."""

    def __init__(self, n_in: int, dim: int, *, state_dependent: bool, log_std_init: float,
                 log_std_min: float, log_std_max: float):
        super().__init__()
        self.mean = linear(n_in, dim, POLICY_GAIN)
        self.lo, self.hi = log_std_min, log_std_max
        self.state_dependent = state_dependent
        if state_dependent:
            # tanh squashes into the bounds smoothly (a hard clamp would zero the gradient);
            # the bias puts the initial log-std at log_std_init.
            self.log_std_layer = linear(n_in, dim, POLICY_GAIN)
            u = 2 * (log_std_init - self.lo) / (self.hi - self.lo) - 1
            nn.init.constant_(self.log_std_layer.bias, math.atanh(max(min(u, 0.999), -0.999)))
        else:
            self.log_std = nn.Parameter(torch.full((dim,), float(log_std_init)))

    def forward(self, features: Tensor, mask: Tensor | None = None) -> DiagGaussian:
        if self.state_dependent:
            z = torch.tanh(self.log_std_layer(features))
            log_std = self.lo + 0.5 * (self.hi - self.lo) * (z + 1)
        else:
            log_std = self.log_std
        return DiagGaussian(self.mean(features), log_std)

    @torch.no_grad()
    def project_(self) -> None:
        """Keep the free parameter inside its bounds after an optimizer step. Projecting the
        parameter, not clamping it in forward, keeps a gradient that can pull it back inside."""
        if not self.state_dependent:
            self.log_std.clamp_(self.lo, self.hi)


def make_head(spec: HeadSpec, n_in: int, cfg) -> nn.Module:
    if spec.kind == "categorical":
        return CategoricalHead(n_in, spec.n)
    if spec.kind == "gaussian":
        return GaussianHead(n_in, spec.dim, state_dependent=cfg.state_dependent_std,
                            log_std_init=cfg.log_std_init, log_std_min=cfg.log_std_min,
                            log_std_max=cfg.log_std_max)
    raise ValueError(f"no head module for kind {spec.kind!r}")
