"""SAC's learner: one gradient step on a replay batch, with the pure losses of
`thermorl.losses.sac`: the soft Q target from the twin target critics, the critic loss, the
actor loss, the temperatures' controllers, then the Polyak update.

Continuous heads are tanh-squashed Gaussians (reparameterized), discrete heads enter through
their exact probabilities, and the critics have one output per joint discrete action (see
`losses/sac.py`).
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import torch
from torch import Tensor

from ..buffers.replay import ReplayBatch
from ..config import SACConfig
from ..distributions import Joint
from ..entropy import EntropyControl
from ..envs.masks import log_valid
from ..envs.spaces import HeadSpec
from ..losses import (actor_loss, critic_loss, entropy_bonus, joint_index, joint_log_probs,
                      soft_q_target, soft_value)
from ..nets.sac import SACNets
from .base import check_finite

# The critics output one value per joint discrete action; beyond this many, enumerating them
# is the wrong tool.
MAX_JOINT_ACTIONS = 4096
LOSS_TERMS = ("loss/value", "loss/policy")


def discrete_parts(heads: Mapping[str, HeadSpec]) -> list[tuple[str, int | None, int]]:
    """The discrete choices in joint order: (head, dimension or None for a categorical, n)."""
    return [(h, None, sp.n) if sp.kind == "categorical" else (h, i, n)
            for h, sp in heads.items() if sp.discrete
            for i, n in (enumerate(sp.nvec) if sp.kind != "categorical" else [(0, 0)])]


class SACLearner:
    """`update(batch, progress)`: one critic step, one actor step, the temperatures, Polyak."""

    def __init__(self, nets: SACNets, heads: Mapping[str, HeadSpec], cfg: SACConfig,
                 entropy: EntropyControl, gen: torch.Generator):
        self.nets, self.heads, self.cfg = nets, dict(heads), cfg
        self.entropy, self.gen = entropy, gen
        self.cont = [h for h, sp in self.heads.items() if not sp.discrete]
        self.parts = discrete_parts(self.heads)
        self.optimizer = torch.optim.Adam(nets.actor.parameters(), lr=cfg.learning_rate,
                                          foreach=True)
        self.critic_optimizer = torch.optim.Adam(nets.critic_parameters(),
                                                 lr=cfg.learning_rate, foreach=True)

    def _joint_probs(self, dist: Joint) -> Tensor | None:
        """[B, K] probabilities of every joint discrete action (None without discrete heads)."""
        if not self.parts:
            return None
        lps = [dist.heads[h].log_probs if i is None else dist.heads[h].parts[i].log_probs
               for h, i, _ in self.parts]
        return joint_log_probs(lps).exp()

    def _policy_terms(self, dist: Joint, reparameterize: bool
                      ) -> tuple[Tensor | None, dict[str, Tensor]]:
        """The continuous heads' squashed actions side by side [B, n_cont], sampled from `dist`,
        and each head's entropy per sample: exact for a discrete head, -log pi(a) of the sample
        for a continuous one."""
        ys, ents = [], {}
        for h, d in dist.heads.items():
            if h in self.cont:
                u = d.rsample(self.gen) if reparameterize else d.sample(self.gen)
                ys.append(torch.tanh(u))
                ents[h] = -d.log_prob(u)
            else:
                ents[h] = d.entropy()
        return (torch.cat(ys, -1) if ys else None), ents

    def _critic_input(self, obs: Tensor, cont: Tensor | None) -> Tensor:
        return obs if cont is None else torch.cat([obs, cont], -1)

    def update(self, b: ReplayBatch, progress: float) -> dict[str, float]:
        s, nets, heads = self.cfg, self.nets, list(self.heads)
        # the temperatures before this step's controller update are the ones used in the losses
        alphas = self.entropy.coefs(progress)

        with torch.no_grad():  # the soft Q target, from the twin target critics at s'
            nd = nets.dist(b.next_obs, b.next_action_masks)
            n_cont, n_ent = self._policy_terms(nd, reparameterize=False)
            q_next = nets.critic_target(self._critic_input(nets.features(b.next_obs, True),
                                                          n_cont)).min(0).values
            v_next = soft_value(q_next, entropy_bonus(alphas, n_ent), self._joint_probs(nd))
            y = soft_q_target(b.rewards, b.terminated, v_next, s.gamma)

        feat = nets.features(b.obs)  # the image encoder's, if any, trained by the critic loss
        stored_cont = torch.cat([b.actions[h] for h in self.cont], -1) if self.cont else None
        q = nets.critic(self._critic_input(feat, stored_cont))  # [2, B, K]
        if self.parts:
            idx = joint_index([b.actions[h] if i is None else b.actions[h][:, i]
                               for h, i, _ in self.parts], [n for *_, n in self.parts])
            q_taken = q.gather(-1, idx.view(1, -1, 1).expand(2, -1, 1)).squeeze(-1)
        else:
            q_taken = q[..., 0]
        c_loss = critic_loss(q_taken[0], q_taken[1], y)
        self.critic_optimizer.zero_grad(set_to_none=True)
        c_loss.backward()
        self.critic_optimizer.step()

        # the actor reads the features as they were before this step, as constants
        feat = feat.detach()
        dist = nets.actor.dist(feat, b.action_masks)
        cont, ents = self._policy_terms(dist, reparameterize=True)
        # the updated critics, as constants: the gradient reaches the actor through `cont`
        q_pi = nets.critic(self._critic_input(feat, cont), detach=True).min(0).values
        a_loss = actor_loss(q_pi, entropy_bonus(alphas, ents), self._joint_probs(dist))
        self.optimizer.zero_grad(set_to_none=True)
        a_loss.backward()
        self.optimizer.step()
        nets.project_()
        # heads with `actuator: project` back to their targets (min: up to them)
        if self.entropy.actuated:
            n = b.rewards.shape[0]
            uniform = torch.full((n,), 1.0 / n, device=b.rewards.device)
            self.entropy.actuate(progress, dist.heads, dict.fromkeys(heads, uniform))
        nets.polyak_(s.tau)

        with torch.no_grad():  # named terms; a term added here is logged by its name
            terms = {"loss/value": c_loss, "loss/policy": a_loss, "diag/q_mean": q_taken.mean(),
                     **{f"entropy/{h}": ents[h].mean() for h in heads}}
            max_ent = {h: log_valid(b.action_masks[h], self.heads[h]).float().mean()
                       for h in heads if h in b.action_masks}
            values = torch.stack([*terms.values(), *max_ent.values()]).tolist()
        out = dict(zip([*terms, *(f"max_entropy/{h}" for h in max_ent)], values))
        check_finite(out, LOSS_TERMS)
        # each temperature's controller sees this batch's entropy of its head (detached)
        self.entropy.observe({h: out[f"entropy/{h}"] for h in heads}, progress,
                             {h: out.pop(f"max_entropy/{h}") for h in max_ent})
        return out

    def state_dict(self) -> dict[str, Any]:
        return {"optimizer": self.optimizer.state_dict(),
                "critic_optimizer": self.critic_optimizer.state_dict()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        self.critic_optimizer.load_state_dict(state["critic_optimizer"])


def joint_actions(heads: Mapping[str, HeadSpec]) -> int:
    return math.prod(n for *_, n in discrete_parts(heads))
