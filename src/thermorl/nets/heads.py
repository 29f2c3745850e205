"""Action heads: a module per head that turns actor features into that head's distribution."""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
from torch import Tensor, nn

from ..distributions import Categorical, DiagGaussian, MultiCategorical, SquashedGaussian
from ..envs.spaces import HeadSpec
from .mlp import linear

POLICY_GAIN = 0.01  # near-uniform / near-zero-mean actions at the start


class CategoricalHead(nn.Module):
    def __init__(self, n_in: int, spec: HeadSpec):
        super().__init__()
        self.spec = spec
        self.logits = linear(n_in, spec.n_logits, POLICY_GAIN)

    def forward(self, features: Tensor, mask: Tensor | None = None):
        return self.distribution(self.logits(features), mask)

    def distribution(self, logits: Tensor, mask: Tensor | None = None):
        """The head's distribution from its output layer's values (the fused path computes
        every head's outputs in one matmul and comes here for the rest)."""
        if self.spec.kind == "multicategorical":
            return MultiCategorical.from_logits(logits, self.spec.nvec, mask)
        return Categorical.from_logits(logits, mask)


class GaussianHead(nn.Module):
    """Mean from the features; log-std a learned per-dimension parameter (default) or a function
    of the state. Both stay within [log_std_min, log_std_max]. With `squash`, the env receives
    tanh of the sample mapped onto the box."""

    def __init__(self, n_in: int, dim: int, *, state_dependent: bool, log_std_init: float,
                 log_std_min: float, log_std_max: float, half_range: Tensor | None = None):
        super().__init__()
        self.mean = linear(n_in, dim, POLICY_GAIN)
        self.lo, self.hi = log_std_min, log_std_max
        self.state_dependent = state_dependent
        if half_range is not None:
            self.register_buffer("half_range", half_range)
        else:
            self.half_range = None
        if state_dependent:
            # tanh squashes into the bounds smoothly (a hard clamp would zero the gradient);
            # the bias puts the initial log-std at log_std_init.
            self.log_std_layer = linear(n_in, dim, POLICY_GAIN)
            u = 2 * (log_std_init - self.lo) / (self.hi - self.lo) - 1
            nn.init.constant_(self.log_std_layer.bias, math.atanh(max(min(u, 0.999), -0.999)))
        else:
            self.log_std = nn.Parameter(torch.full((dim,), float(log_std_init)))

    def forward(self, features: Tensor, mask: Tensor | None = None):
        if self.state_dependent:
            z = torch.tanh(self.log_std_layer(features))
            log_std = self.lo + 0.5 * (self.hi - self.lo) * (z + 1)
        else:
            log_std = self.log_std
        return self.distribution(self.mean(features), log_std)

    def distribution(self, mean: Tensor, log_std: Tensor | None = None):
        """The head's distribution from its mean (and log-std; by default the free
        per-dimension parameter)."""
        log_std = self.log_std if log_std is None else log_std
        if self.half_range is not None:
            return SquashedGaussian(mean, log_std, self.half_range)
        return DiagGaussian(mean, log_std)

    @torch.no_grad()
    def project_(self) -> None:
        """Keep the free parameter inside its bounds after an optimizer step. Projecting the
        parameter, not clamping it in forward, keeps a gradient that can pull it back inside."""
        if not self.state_dependent:
            self.log_std.clamp_(self.lo, self.hi)


@torch.no_grad()
def project_heads_(heads: Mapping[str, nn.Module]) -> None:
    """Every head's free parameters back inside their bounds after an optimizer step; heads
    without bounded parameters (categorical ones) have no `project_`."""
    for head in heads.values():
        if hasattr(head, "project_"):
            head.project_()


def make_head(spec: HeadSpec, n_in: int, cfg) -> nn.Module:
    if spec.discrete:
        return CategoricalHead(n_in, spec)
    half = (torch.as_tensor((spec.high - spec.low) / 2, dtype=torch.float32)
            if spec.squash else None)
    return GaussianHead(n_in, spec.dim, state_dependent=cfg.state_dependent_std,
                        log_std_init=0.0 if cfg.log_std_init is None else cfg.log_std_init,
                        log_std_min=cfg.log_std_min,
                        log_std_max=cfg.log_std_max, half_range=half)
