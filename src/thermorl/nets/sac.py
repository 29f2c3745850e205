"""SAC's networks: an actor (MLP body, one head per action head) and twin Q critics with their
Polyak-averaged targets.

Image observations (or images among a Dict's entries) go through one convolutional encoder, the
critics': the critic loss trains it, and the actor reads its features without passing its own
gradient back (as DrQ does: the actor's loss is a poor teacher for an encoder, and one encoder
is half the convolutions of two). The target critics have a Polyak-averaged copy of it. Its
features are 64 wide, so that the action the critics take beside them is not drowned out.

The twin critics are one module whose layers hold both members' weights ([2, in, out]), so each
layer of both critics is one batched matmul: small MLPs on a CPU cost per call, not per flop.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Mapping

import torch
from torch import Tensor, nn

from ..config import PolicyConfig
from ..distributions import Joint
from ..envs.spaces import HeadSpec
from .encoder import PART_FEATURES, ImageSpec, MultiSpec, make_encoder
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
    """The actor, the twin critics and their targets (and the image encoder with its target,
    given `image`): one module, so one state dict."""

    def __init__(self, obs_dim: int, heads: Mapping[str, HeadSpec], cfg: PolicyConfig,
                 n_cont: int, n_joint: int, image: ImageSpec | MultiSpec | None = None):
        super().__init__()
        self.image = image
        self.encoder: nn.Module | None = None
        self.encoder_target: nn.Module | None = None
        n_in = obs_dim
        if image is not None:
            self.encoder = make_encoder(image, PART_FEATURES)
            self.encoder_target = copy.deepcopy(self.encoder).requires_grad_(False)
            n_in = self.encoder.n_out
        self.actor = Actor(n_in, heads, cfg)
        hidden = tuple(cfg.hidden_sizes)
        self.critic = TwinQ(n_in + n_cont, hidden, n_joint, cfg.activation)
        self.critic_target = TwinQ(n_in + n_cont, hidden, n_joint, cfg.activation)
        self.critic_target.load_state_dict(self.critic.state_dict())
        self.critic_target.requires_grad_(False)

    def features(self, obs: Tensor, target: bool = False) -> Tensor:
        """What the actor and the critics read: the encoder's features (the target encoder's
        with `target`), or the observation itself without an encoder."""
        if self.encoder is None:
            return obs
        return (self.encoder_target if target else self.encoder)(obs)

    def critic_parameters(self) -> list[nn.Parameter]:
        """What the critic loss trains: the critics and the encoder."""
        enc = list(self.encoder.parameters()) if self.encoder is not None else []
        return [*enc, *self.critic.parameters()]

    def dist(self, obs: Tensor, masks: Mapping[str, Tensor] | None = None) -> Joint:
        return self.actor.dist(self.features(obs).detach(), masks)

    @torch.no_grad()
    def polyak_(self, tau: float) -> None:
        """target <- (1 - tau) * target + tau * online, in one fused call."""
        targets, online = [self.critic_target], [self.critic]
        if self.encoder is not None:
            targets.append(self.encoder_target)
            online.append(self.encoder)
        torch._foreach_lerp_([p for m in targets for p in m.parameters()],
                             [p for m in online for p in m.parameters()], tau)

    def project_(self) -> None:
        project_heads_(self.actor.heads)
