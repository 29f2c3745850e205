"""Separate actor and critic MLPs, one head module per action head."""

from __future__ import annotations

from typing import Mapping

from torch import Tensor, nn

from ..config import PolicyConfig
from ..distributions import Joint
from ..envs.spaces import HeadSpec
from .heads import make_head, project_heads_
from .mlp import mlp


class ActorCritic(nn.Module):
    def __init__(self, obs_dim: int, heads: Mapping[str, HeadSpec], cfg: PolicyConfig,
                 used_when: Mapping[str, tuple[str, int]] | None = None):
        super().__init__()
        self.used_when = dict(used_when or {})
        hidden = tuple(cfg.hidden_sizes)
        self.actor_body = mlp(obs_dim, hidden, activation=cfg.activation)
        n_feat = hidden[-1] if hidden else obs_dim
        self.heads = nn.ModuleDict({name: make_head(spec, n_feat, cfg)
                                    for name, spec in heads.items()})
        self.critic = mlp(obs_dim, hidden, 1, activation=cfg.activation, out_gain=1.0)

    def dist(self, obs: Tensor, masks: Mapping[str, Tensor] | None = None) -> Joint:
        feat = self.actor_body(obs)
        masks = masks or {}
        return Joint({name: head(feat, masks.get(name)) for name, head in self.heads.items()},
                     self.used_when)

    def value(self, obs: Tensor) -> Tensor:
        return self.critic(obs).squeeze(-1)

    def forward(self, obs: Tensor, masks: Mapping[str, Tensor] | None = None) -> tuple[Joint, Tensor]:
        return self.dist(obs, masks), self.value(obs)

    def project_(self) -> None:
        project_heads_(self.heads)
