"""SAC's networks: an actor (MLP body, one head per action head) and twin Q critics with their
Polyak-averaged targets.

The twin critics are one module whose layers hold both members' weights ([2, in, out]), so each
layer of both critics is one batched matmul: small MLPs on a CPU cost per call, not per flop.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping

import torch
from torch import Tensor, nn

from ..config import PolicyConfig
from ..distributions import Joint
from ..envs.spaces import HeadSpec
from .heads import make_head, project_heads_
from .mlp import ACTIVATIONS, mlp


class Actor(nn.Module):
    def __init__(self, obs_dim: int, heads: Mapping[str, HeadSpec], cfg: PolicyConfig):
        super().__init__()
        hidden = tuple(cfg.hidden_sizes)
        self.body = mlp(obs_dim, hidden, activation=cfg.activation)
        n_feat = hidden[-1] if hidden else obs_dim
        self.heads = nn.ModuleDict({name: make_head(spec, n_feat, cfg)
                                    for name, spec in heads.items()})

    def dist(self, obs: Tensor, masks: Mapping[str, Tensor] | None = None) -> Joint:
        feat = self.body(obs)
        masks = masks or {}
        return Joint({name: head(feat, masks.get(name)) for name, head in self.heads.items()})


class EnsembleLinear(nn.Module):
    """`members` independent linear layers applied in one batched matmul: [M, B, in] ->
    [M, B, out]. Initialized like `nn.Linear` (uniform within 1/sqrt(in)), member by member."""

    def __init__(self, members: int, n_in: int, n_out: int):
        super().__init__()
        bound = 1.0 / math.sqrt(n_in)
        self.weight = nn.Parameter(torch.empty(members, n_in, n_out).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(members, 1, n_out).uniform_(-bound, bound))

    def forward(self, x: Tensor, detach: bool = False) -> Tensor:
        w, b = (self.weight.detach(), self.bias.detach()) if detach else (self.weight, self.bias)
        return torch.baddbmm(b, x, w)


class TwinQ(nn.Module):
    """Q_1 and Q_2 (s, continuous actions) -> one value per joint discrete action each."""

    def __init__(self, n_in: int, hidden: tuple[int, ...], n_out: int, activation: str):
        super().__init__()
        sizes = [n_in, *hidden, n_out]
        self.layers = nn.ModuleList(EnsembleLinear(2, a, b)
                                    for a, b in itertools.pairwise(sizes))
        self.act = ACTIVATIONS[activation]()

    def forward(self, x: Tensor, detach: bool = False) -> Tensor:
        """[B, n_in] -> [2, B, n_out]. `detach`: no gradient into the critics' weights (the
        actor's loss), while the gradient still flows back into `x`."""
        h = x.unsqueeze(0).expand(2, *x.shape)
        for i, layer in enumerate(self.layers):
            h = layer(h, detach)
            if i < len(self.layers) - 1:
                h = self.act(h)
        return h


class SACNets(nn.Module):
    """The actor, the twin critics and their targets: one module, so one state dict."""

    def __init__(self, obs_dim: int, heads: Mapping[str, HeadSpec], cfg: PolicyConfig,
                 n_cont: int, n_joint: int):
        super().__init__()
        self.actor = Actor(obs_dim, heads, cfg)
        hidden = tuple(cfg.hidden_sizes)
        self.critic = TwinQ(obs_dim + n_cont, hidden, n_joint, cfg.activation)
        self.critic_target = TwinQ(obs_dim + n_cont, hidden, n_joint, cfg.activation)
        self.critic_target.load_state_dict(self.critic.state_dict())
        self.critic_target.requires_grad_(False)

    def dist(self, obs: Tensor, masks: Mapping[str, Tensor] | None = None) -> Joint:
        return self.actor.dist(obs, masks)

    @torch.no_grad()
    def polyak_(self, tau: float) -> None:
        """target <- (1 - tau) * target + tau * online, in one fused call."""
        torch._foreach_lerp_(list(self.critic_target.parameters()),
                             list(self.critic.parameters()), tau)

    def project_(self) -> None:
        project_heads_(self.actor.heads)
