"""Separate actor and critic MLPs (each behind an image encoder of its own for image
observations), one head module per action head."""

from __future__ import annotations

from typing import Mapping

from torch import Tensor, nn

from ..config import PolicyConfig
from ..distributions import Joint
from ..envs.spaces import HeadSpec
from .encoder import ImageSpec, MultiSpec, body
from .heads import make_head, project_heads_
from .mlp import linear, mlp


class ActorCritic(nn.Module):
    def __init__(self, obs_dim: int, heads: Mapping[str, HeadSpec], cfg: PolicyConfig,
                 used_when: Mapping[str, tuple[str, int]] | None = None,
                 image: ImageSpec | MultiSpec | None = None):
        super().__init__()
        self.used_when = dict(used_when or {})
        self.image = image  # an image encoder in front of each MLP (nets/encoder.py)
        hidden = tuple(cfg.hidden_sizes)
        self.actor_body, n_feat = body(obs_dim, image, hidden, cfg.activation)
        self.heads = nn.ModuleDict({name: make_head(spec, n_feat, cfg)
                                    for name, spec in heads.items()})
        if image is None:
            self.critic = mlp(obs_dim, hidden, 1, activation=cfg.activation, out_gain=1.0)
        else:  # an encoder of its own, as the MLP critic has its own body
            critic_body, n_c = body(obs_dim, image, hidden, cfg.activation)
            self.critic = nn.Sequential(*critic_body, linear(n_c, 1, 1.0))

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
