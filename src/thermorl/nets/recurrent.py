"""Recurrent actor-critic: MLP body, then an LSTM or GRU core, then the action heads and value.

The hidden state travels as ONE float tensor per env, `[batch, state_size]`: the core's h (and
c for an LSTM), the actor's core first and then the critic's when they are separate. A flat
tensor is what the rollout buffer stores per step, what `predict` hands back to users, and
what gets zeroed where an episode starts (`state * ~start`), without knowing the core's kind.

Training sees time-major sequences flattened to `[L * B, ...]` (row `l * B + b` is step l of
sequence b), so the heads, distributions and pure losses are the feed-forward ones. Sequences
never cross an episode start, so the core runs straight through each one from its start state.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from ..config import PolicyConfig
from ..distributions import Joint
from ..envs.spaces import HeadSpec
from .encoder import ImageSpec, MultiSpec, body
from .heads import make_head, project_heads_
from .mlp import linear

if TYPE_CHECKING:
    from ..buffers.batch import SeqInfo


class RecurrentCore(nn.Module):
    """One LSTM or GRU layer over `[L, B, n_in]`, its state flattened to `[B, state_size]`."""

    def __init__(self, kind: str, n_in: int, hidden: int):
        super().__init__()
        assert kind in ("lstm", "gru"), kind
        self.kind, self.hidden = kind, hidden
        self.rnn = (nn.LSTM if kind == "lstm" else nn.GRU)(n_in, hidden)
        self.state_size = 2 * hidden if kind == "lstm" else hidden
        # orthogonal weights and zero biases, as for the MLPs: the init PPO results rely on
        for name, w in self.rnn.named_parameters():
            if name.startswith("weight"):
                nn.init.orthogonal_(w, 1.0)
            else:
                nn.init.zeros_(w)

    def forward(self, x: Tensor, state: Tensor) -> tuple[Tensor, Tensor]:
        assert x.dim() == 3 and state.shape == (x.shape[1], self.state_size), \
            f"x {tuple(x.shape)} must be [L, B, in] and state {tuple(state.shape)} [B, {self.state_size}]"
        if self.kind == "lstm":
            h, c = state[:, :self.hidden], state[:, self.hidden:]
            out, (h, c) = self.rnn(x, (h.unsqueeze(0).contiguous(), c.unsqueeze(0).contiguous()))
            return out, torch.cat([h[0], c[0]], -1)
        out, h = self.rnn(x, state.unsqueeze(0).contiguous())
        return out, h[0]


class RecurrentActorCritic(nn.Module):
    """`kind` lstm or gru; `shared`: one body and core feed both the heads and the value."""

    def __init__(self, obs_dim: int, heads: Mapping[str, HeadSpec], cfg: PolicyConfig,
                 kind: str, hidden: int, shared: bool,
                 used_when: Mapping[str, tuple[str, int]] | None = None,
                 image: ImageSpec | MultiSpec | None = None):
        super().__init__()
        self.used_when = dict(used_when or {})
        self.image = image
        sizes = tuple(cfg.hidden_sizes)
        self.actor_body, n_body = body(obs_dim, image, sizes, cfg.activation)
        self.actor_core = RecurrentCore(kind, n_body, hidden)
        self.heads = nn.ModuleDict({name: make_head(spec, hidden, cfg)
                                    for name, spec in heads.items()})
        self.shared = shared
        if not shared:
            self.critic_body, _ = body(obs_dim, image, sizes, cfg.activation)
            self.critic_core = RecurrentCore(kind, n_body, hidden)
        self.value_out = linear(hidden, 1, 1.0)
        self.state_size = self.actor_core.state_size * (1 if shared else 2)

    def initial_state(self, n: int, device: torch.device | str | None = None) -> Tensor:
        """The state at an episode start: zeros."""
        return torch.zeros(n, self.state_size, device=device)

    def _unroll(self, obs: Tensor, state: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Actor features, critic features ([L, B, hidden]) and the state after the last step."""
        L, B = obs.shape[:2]
        k = self.actor_core.state_size
        a_feat, a_state = self.actor_core(self.actor_body(obs.reshape(L * B, -1)).reshape(L, B, -1),
                                          state[:, :k])
        if self.shared:
            return a_feat, a_feat, a_state
        c_feat, c_state = self.critic_core(
            self.critic_body(obs.reshape(L * B, -1)).reshape(L, B, -1), state[:, k:])
        return a_feat, c_feat, torch.cat([a_state, c_state], -1)

    def _outputs(self, a_feat: Tensor, c_feat: Tensor,
                 masks: Mapping[str, Tensor] | None) -> tuple[Joint, Tensor]:
        a_feat, c_feat = a_feat.flatten(0, 1), c_feat.flatten(0, 1)
        masks = masks or {}
        dist = Joint({name: head(a_feat, masks.get(name)) for name, head in self.heads.items()},
                     self.used_when)
        return dist, self.value_out(c_feat).squeeze(-1)

    def step(self, obs: Tensor, state: Tensor, masks: Mapping[str, Tensor] | None = None
             ) -> tuple[Joint, Tensor, Tensor]:
        """One step for a batch of envs: obs [N, obs_dim], state [N, state_size] (already
        zeroed where an episode starts) -> distribution, value [N], next state."""
        a_feat, c_feat, state = self._unroll(obs.unsqueeze(0), state)
        dist, value = self._outputs(a_feat, c_feat, masks)
        return dist, value, state

    def value_step(self, obs: Tensor, state: Tensor) -> Tensor:
        return self.step(obs, state)[1]

    @torch.no_grad()
    def burn_in(self, obs: Tensor, active: Tensor, state: Tensor) -> Tensor:
        """Run the current network over left-padded earlier steps (obs [K, B, obs_dim], active
        [K, B]) from `state`; inactive steps leave a sequence's state as it is. No gradient
        flows into the burn-in (R2D2, Kapturowski et al., 2019)."""
        for k in range(obs.shape[0]):
            _, _, nxt = self._unroll(obs[k:k + 1], state)
            state = torch.where(active[k].unsqueeze(-1), nxt, state)
        return state

    def forward_seq(self, obs: Tensor, masks: Mapping[str, Tensor] | None,
                    seq: SeqInfo) -> tuple[Joint, Tensor]:
        """Distribution and value for B padded sequences flattened time-major: obs [L * B, d]
        (row l * B + b), the start state from `seq` (after its burn-in, if any)."""
        state = seq.state
        if seq.burn_obs is not None:
            state = self.burn_in(seq.burn_obs, seq.burn_active, state)
        B = state.shape[0]
        a_feat, c_feat, _ = self._unroll(obs.reshape(-1, B, obs.shape[-1]), state)
        return self._outputs(a_feat, c_feat, masks)

    def project_(self) -> None:
        project_heads_(self.heads)
