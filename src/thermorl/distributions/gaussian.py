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
        return (self.mean + self.log_std.exp() * self._eps(generator, eps)).detach()

    def sample_log_prob(self, generator: torch.Generator | None = None,
                        eps: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """`sample()` and the sample's log-prob, which needs no z: for a = mu + sigma * eps it is
        sum over dims of -eps^2 / 2 - log sigma - log(2 pi) / 2 (a third of `log_prob`'s ops)."""
        eps = self._eps(generator, eps)
        log_prob = (eps * eps).sum(-1).mul_(-0.5).sub_((self.log_std + HALF_LOG_2PI).sum(-1))
        return self.sample(eps=eps), log_prob

    def rsample(self, generator: torch.Generator | None = None) -> Tensor:
        """mean + std * eps, eps ~ N(0, 1), keeping the gradient (SAC's reparameterization)."""
        return self.mean + self.log_std.exp() * self._eps(generator)

    def _eps(self, generator: torch.Generator | None, eps: Tensor | None = None) -> Tensor:
        """`eps` if given, else a standard-normal draw of the mean's shape."""
        if eps is not None:
            return eps
        return torch.randn(self.mean.shape, generator=generator, dtype=self.mean.dtype,
                           device=self.mean.device)

    def mode(self) -> Tensor:
        return self.mean


def _gauss_hermite(k: int) -> tuple[Tensor, Tensor]:
    """Nodes and weights with sum_j w_j f(z_j) ~ E[f(z)], z ~ N(0, 1)."""
    import numpy as np

    z, w = np.polynomial.hermite_e.hermegauss(k)
    return torch.tensor(z, dtype=torch.float32), torch.tensor(w / w.sum(), dtype=torch.float32)


_GH_NODES, _GH_WEIGHTS = _gauss_hermite(32)


def _log_one_minus_tanh_sq(u: Tensor) -> Tensor:
    """log(1 - tanh(u)^2) = 2 * (log 2 - u - softplus(-2u)), stable for large |u|."""
    return 2.0 * (math.log(2.0) - u - torch.nn.functional.softplus(-2.0 * u))


@dataclass(frozen=True)
class SquashedGaussian:
    """u ~ N(mean, std), and the env receives a = low + (tanh(u) + 1) * (high - low) / 2.

    Actions (stored, sampled, passed to `log_prob`) are the pre-squash u, so PPO's ratio is the
    Gaussian one (the Jacobian cancels in it). `log_prob` still includes the Jacobian, so it is
    the density of a. `entropy` is the entropy of a, the action the env actually receives:

        H(a) = sum_i [ H(u_i) + log((high_i - low_i) / 2) + E_z[log(1 - tanh(mu_i + s_i z)^2)] ]

    with the expectation over z ~ N(0, 1) taken by 32-point Gauss-Hermite quadrature: exact for
    the elementwise squash up to quadrature error, deterministic, and differentiable in mu, s.
    """

    mean: Tensor
    log_std: Tensor
    half_range: Tensor  # [d]

    def log_prob(self, action: Tensor) -> Tensor:
        base = DiagGaussian(self.mean, self.log_std).log_prob(action)
        return base - (torch.log(self.half_range) + _log_one_minus_tanh_sq(action)).sum(-1)

    def entropy(self) -> Tensor:
        h_u = DiagGaussian(self.mean, self.log_std).entropy()
        z = _GH_NODES.to(self.mean.device, self.mean.dtype)
        w = _GH_WEIGHTS.to(self.mean.device, self.mean.dtype)
        u = self.mean.unsqueeze(-1) + self.log_std.exp().unsqueeze(-1) * z  # [..., d, K]
        jac = (_log_one_minus_tanh_sq(u) * w).sum(-1)  # E_z per dimension
        return h_u + (torch.log(self.half_range) + jac).sum(-1)

    def sample(self, generator: torch.Generator | None = None, eps: Tensor | None = None) -> Tensor:
        """The pre-squash u; colored noise, if any, shapes u (the squash comes after)."""
        return DiagGaussian(self.mean, self.log_std).sample(generator, eps)

    def rsample(self, generator: torch.Generator | None = None) -> Tensor:
        """A pre-squash u that keeps its gradient (SAC's reparameterization)."""
        return DiagGaussian(self.mean, self.log_std).rsample(generator)

    def mode(self) -> Tensor:
        return self.mean
