"""`AutoEntropyLoss`: the widely copied auto-entropy API, with the sign right.

The snippet that circulates,

    alpha_loss = -(log_alpha * (entropy + target_entropy)).mean()

is a mis-transcription of SAC's `-(log_alpha * (log_prob + target_entropy)).mean()`: with
entropy = -log_prob substituted without flipping the sign, its gradient with respect to
log_alpha is -(H + target), so gradient descent *raises* alpha when the entropy is already high
and lowers it when the policy is collapsing. The loss here is

    alpha_loss = (log_alpha * (entropy - target_entropy)).mean()

whose gradient H - target lowers alpha above the target and raises it below.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


class AutoEntropyLoss:
    """A learned temperature alpha = exp(log_alpha) for your own PPO or SAC loop.

    This is SAC's inequality constraint (Haarnoja et al., 2018): alpha > 0 always, so it can add
    entropy but never remove it, and it drives the entropy up to `target_entropy` from below. To
    hold an entropy *at* a target from above as well, use thermorl's `entropy: {mode: learned,
    constraint: equal}` (a signed coefficient with a PI controller).

        ent_loss = AutoEntropyLoss(init_alpha=0.2, target_entropy=-action_dim, lr=3e-4)
        alpha, alpha_loss = ent_loss.step(entropy)      # entropy: a batch of H(pi(.|s))
        policy_loss = (alpha * log_prob - q).mean()     # alpha is detached
    """

    def __init__(self, init_alpha: float = 0.2, target_entropy: float | None = None,
                 lr: float = 1e-3):
        if not init_alpha > 0:
            raise ValueError(f"init_alpha must be > 0 (alpha = exp(log_alpha)), got {init_alpha}")
        if not lr > 0:
            raise ValueError(f"lr must be > 0, got {lr}")
        self.log_alpha = torch.tensor(math.log(init_alpha), requires_grad=True)
        self.optimizer = torch.optim.Adam([self.log_alpha], lr=lr)
        self.target_entropy = None if target_entropy is None else float(target_entropy)

    @property
    def alpha(self) -> Tensor:
        """exp(log_alpha), detached: use it as a constant in your policy loss."""
        return self.log_alpha.detach().exp()

    def set_target_entropy(self, value: float) -> None:
        self.target_entropy = float(value)

    def step(self, entropy: Tensor, detach_entropy: bool = True) -> tuple[Tensor, Tensor]:
        """One Adam step on log_alpha from a batch of entropies; returns (alpha, alpha_loss).

        With `detach_entropy=False` the returned loss keeps `entropy`'s graph (for logging or a
        custom backward); log_alpha's own step never sends gradient into the policy."""
        if self.target_entropy is None:
            raise ValueError("AutoEntropyLoss has no target entropy: pass "
                             "target_entropy=... to the constructor or call "
                             "set_target_entropy(value) first (e.g. -action_dim for a "
                             "Gaussian policy, 0.5 * log(n) for a categorical one)")
        h = entropy.detach() if detach_entropy else entropy
        alpha_loss = (self.log_alpha * (h - self.target_entropy)).mean()
        (grad,) = torch.autograd.grad(alpha_loss, [self.log_alpha], retain_graph=not detach_entropy)
        self.optimizer.zero_grad(set_to_none=True)
        self.log_alpha.grad = grad
        self.optimizer.step()
        return self.alpha, alpha_loss if not detach_entropy else alpha_loss.detach()
