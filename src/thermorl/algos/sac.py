"""SAC: collect a few env steps into the replay buffer, then a few gradient steps on sampled
batches; the temperatures are the same per-head controllers as PPO's entropy coefficients.

Reads top to bottom: `_collect` steps the vector env (uniformly random actions until
`learning_starts`), `_gradient_step` runs the pure losses of `thermorl.losses.sac`: the soft Q
target from the twin target critics, the critic loss, the actor loss, the temperatures'
controllers, then the Polyak update. Action heads: continuous heads are tanh-squashed Gaussians
(reparameterized), discrete heads enter through their exact probabilities, and the critics have
one output per joint discrete action (see `losses/sac.py`).
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..buffers import ReplayBuffer
from ..buffers.replay import ReplayBatch
from ..config import Config
from ..distributions import Categorical, Joint
from ..entropy import EntropyControl
from ..entropy.noise import noise_eps, restart_noise
from ..entropy.resolve import head_settings
from ..envs import EnvSource
from ..envs.masks import log_valid
from ..errors import ConfigError, TrainingDiverged
from ..losses import (actor_loss, critic_loss, entropy_bonus, joint_index, joint_log_probs,
                      soft_q_target, soft_value)
from ..nets.sac import SACNets
from .base import Algorithm
from .ppo import make_config

# The critics output one value per joint discrete action; beyond this many, enumerating them
# is the wrong tool.
MAX_JOINT_ACTIONS = 4096
# atanh of a uniform warm-up action stays finite
_EDGE = 1.0 - 1e-6


class SAC(Algorithm):
    """`SAC(env_id_or_factory, config).learn()`; configs from
    `thermorl.make_config(env, algo="sac")`."""

    algo_name = "sac"

    def __init__(self, env: EnvSource | None = None, config: Config | None = None, *,
                 run_dir: str | Path | None = None):
        if config is None:
            config = make_config(env if isinstance(env, str) else "Pendulum-v1", algo="sac")
        if config.algo != "sac":
            raise ConfigError(f"SAC was given a config with algo {config.algo!r}; accepted: "
                              f"algo sac (thermorl.make_config(env, algo='sac') applies SAC's "
                              f"defaults)")
        s = config.sac
        self.num_envs = s.num_envs
        super().__init__(env, config, run_dir)
        self._check_heads()
        self.cont = [h for h, sp in self.heads.items() if not sp.discrete]
        # the discrete choices in joint order: (head, dimension or None for a categorical, n)
        self.parts = [(h, None, sp.n) if sp.kind == "categorical" else (h, i, n)
                      for h, sp in self.heads.items() if sp.discrete
                      for i, n in (enumerate(sp.nvec) if sp.kind != "categorical" else [(0, 0)])]
        n_joint = math.prod(n for *_, n in self.parts)
        if n_joint > MAX_JOINT_ACTIONS:
            raise ConfigError(f"SAC enumerates the joint discrete actions and this action space "
                              f"has {n_joint:,}; accepted: at most {MAX_JOINT_ACTIONS:,}")
        n_cont = sum(self.heads[h].dim for h in self.cont)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            self.policy = SACNets(self.obs_dim, self.heads, config.policy, n_cont,
                                  n_joint).to(self.device)
        self.optimizer = torch.optim.Adam(self.policy.actor.parameters(), lr=s.learning_rate,
                                          foreach=True)
        self.critic_optimizer = torch.optim.Adam(self.policy.critic.parameters(),
                                                 lr=s.learning_rate, foreach=True)
        self.entropy = EntropyControl(head_settings(config.entropy, self.heads, 0.0, "sac"),
                                      self.heads)
        self.entropy.attach(self.policy.actor.heads, config.policy.log_std_init is None)
        self.buffer = ReplayBuffer(s.buffer_size, self.obs_dim, self.heads, self.device)
        self.noise = self._make_noise(s.num_envs, config.seed)

    def _check_heads(self) -> None:
        if self.used_when:
            raise ConfigError("policy.parameterized: SAC does not support parameterized action "
                              "heads; accepted with algo sac: {} (train them with algo ppo)")
        for h, sp in self.heads.items():
            if sp.discrete or sp.squash:
                continue
            if not sp.bounded:
                raise ConfigError(f"action head {h!r} is an unbounded Box; SAC squashes Gaussian "
                                  f"heads with tanh onto their bounds; accepted: a Box with "
                                  f"finite low and high")
            raise ConfigError("policy.squash=false: SAC acts through tanh onto each Box; "
                              "accepted with algo sac: true")

    # -- one round: a metrics row ---------------------------------------------------------
    def _train_step(self, total: int) -> dict[str, float]:
        s, n = self.config.sac, self.num_envs
        heads = list(self.heads)
        start, t0 = self.global_step, time.perf_counter()
        end = min(start + s.log_interval, total)
        sums: dict[str, float] = {}
        steps = 0
        while self.global_step < end and not (self._stop and self.global_step > start):
            # (a first Ctrl-C ends the round early: rounds are long when steps are slow)
            progress = self.global_step / total
            tc = time.perf_counter()
            self._collect(min(s.train_freq, -(-(total - self.global_step) // n)))
            tu = time.perf_counter()
            self.timing["collect"] += tu - tc
            if self.global_step > s.learning_starts and len(self.buffer) > 0:
                for _ in range(s.gradient_steps):
                    for k, v in self._gradient_step(progress).items():
                        sums[k] = sums.get(k, 0.0) + v
                    steps += 1
                self.timing["update"] += time.perf_counter() - tu
        dt = time.perf_counter() - t0
        self.updates += 1
        metrics = {k: v / steps for k, v in sums.items()}
        recent = float(np.mean(self.recent_returns)) if self.recent_returns else None
        progress = self.global_step / total
        metrics.update(self.entropy.end_update(
            {h: metrics.get(f"entropy/{h}", math.nan) for h in heads}, progress, recent))
        metrics.update({"diag/gradient_steps": float(steps), "diag/buffer_size": len(self.buffer),
                        "perf/sps": (self.global_step - start) / dt})
        if recent is not None:
            metrics["episode/return"] = recent
            metrics["episode/length"] = float(np.mean(self.recent_lengths))
        return metrics

    # -- collection -----------------------------------------------------------------------
    @torch.inference_mode()
    def _collect(self, steps: int) -> None:
        dev, warmup = self.device, self.global_step < self.config.sac.learning_starts
        for _ in range(steps):
            obs = torch.as_tensor(self._obs, device=dev)
            masks = self._cur_masks
            if warmup:
                raw = self._random_actions(len(obs), masks)
            else:
                raw = self.policy.dist(obs, masks).sample(self.sample_gen,
                                                          noise_eps(self.noise, dev))
            env_action = self.action_layout.to_env({k: a.cpu().numpy() for k, a in raw.items()})
            next_obs, reward, term, trunc, info = self._step_envs(env_action)
            self.global_step += self.num_envs
            self._check_finite("reward", np.asarray(reward))
            real = ~self._prev_end  # the step after an episode's end only resets the env
            ended = term | trunc
            self._track_episodes(reward, ended, real)
            # a truncated episode's final observation is `next_obs` here, so s' is the real one
            nxt = self._prep_obs(next_obs, update=False)
            next_masks = self._masks(info, next_obs)
            stored = {h: torch.tanh(a) if h in self.cont else a for h, a in raw.items()}
            self.buffer.add(obs, stored, torch.as_tensor(reward, device=dev),
                            torch.as_tensor(nxt, device=dev), torch.as_tensor(term, device=dev),
                            torch.as_tensor(real, device=dev), masks, next_masks)
            self._prev_end = ended
            if self.noise and not real.all():  # a reset-only step: a new episode starts next
                restart_noise(self.noise, np.flatnonzero(~real))
            self._obs, self._cur_masks = nxt, next_masks
            if warmup and self.global_step >= self.config.sac.learning_starts:
                warmup = False

    def _random_actions(self, n: int, masks: dict[str, Tensor]) -> dict[str, Tensor]:
        """Uniform over each head's actions (the valid ones where masked); a Gaussian head's
        pre-squash u is atanh of a uniform point of [-1, 1]."""
        out = {}
        for h, sp in self.heads.items():
            if sp.discrete:
                logits = torch.zeros(n, sp.n_logits, device=self.device)
                out[h] = self._uniform_discrete(sp, logits, masks.get(h))
            else:
                y = torch.rand(n, sp.dim, generator=self.sample_gen, device=self.device)
                out[h] = torch.atanh((2 * y - 1).clamp(-_EDGE, _EDGE))
        return out

    def _uniform_discrete(self, sp: Any, logits: Tensor, mask: Tensor | None) -> Tensor:
        if sp.kind == "categorical":
            return Categorical.from_logits(logits, mask).sample(self.sample_gen)
        chunks = logits.split(list(sp.nvec), dim=-1)
        mchunks = mask.split(list(sp.nvec), dim=-1) if mask is not None else [None] * len(chunks)
        return torch.stack([Categorical.from_logits(c, m).sample(self.sample_gen)
                            for c, m in zip(chunks, mchunks)], dim=-1)

    # -- learning -------------------------------------------------------------------------
    def _joint_probs(self, dist: Joint) -> Tensor | None:
        """[B, K] probabilities of every joint discrete action (None without discrete heads)."""
        if not self.parts:
            return None
        lps = [dist.heads[h].log_probs if i is None else dist.heads[h].parts[i].log_probs
               for h, i, _ in self.parts]
        return joint_log_probs(lps).exp()

    def _policy_terms(self, dist: Joint, reparameterize: bool
                      ) -> tuple[Tensor, dict[str, Tensor]]:
        """The continuous heads' squashed actions side by side [B, n_cont], sampled from `dist`,
        and each head's entropy per sample: exact for a discrete head, -log pi(a) of the sample
        for a continuous one."""
        ys, ents = [], {}
        for h, d in dist.heads.items():
            if h in self.cont:
                u = d.rsample(self.shuffle_gen) if reparameterize else \
                    d.sample(self.shuffle_gen)
                ys.append(torch.tanh(u))
                ents[h] = -d.log_prob(u)
            else:
                ents[h] = d.entropy()
        return (torch.cat(ys, -1) if ys else None), ents  # type: ignore[return-value]

    def _critic_input(self, obs: Tensor, cont: Tensor | None) -> Tensor:
        return obs if cont is None else torch.cat([obs, cont], -1)

    def _gradient_step(self, progress: float) -> dict[str, float]:
        s, nets = self.config.sac, self.policy
        b: ReplayBatch = self.buffer.sample(s.batch_size, self.shuffle_gen)
        heads = list(self.heads)
        # the temperatures before this step's controller update are the ones used in the losses
        alphas = self.entropy.coefs(progress)

        with torch.no_grad():  # the soft Q target, from the twin target critics at s'
            nd = nets.dist(b.next_obs, b.next_action_masks)
            n_cont, n_ent = self._policy_terms(nd, reparameterize=False)
            q_next = nets.critic_target(self._critic_input(b.next_obs, n_cont)).min(0).values
            v_next = soft_value(q_next, entropy_bonus(alphas, n_ent), self._joint_probs(nd))
            y = soft_q_target(b.rewards, b.terminated, v_next, s.gamma)

        stored_cont = (torch.cat([b.actions[h] for h in self.cont], -1) if self.cont else None)
        q = nets.critic(self._critic_input(b.obs, stored_cont))  # [2, B, K]
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

        dist = nets.dist(b.obs, b.action_masks)
        cont, ents = self._policy_terms(dist, reparameterize=True)
        # the updated critics, as constants: the gradient reaches the actor through `cont`
        q_pi = nets.critic(self._critic_input(b.obs, cont), detach=True).min(0).values
        a_loss = actor_loss(q_pi, entropy_bonus(alphas, ents), self._joint_probs(dist))
        self.optimizer.zero_grad(set_to_none=True)
        a_loss.backward()
        self.optimizer.step()
        nets.project_()
        # heads with `actuator: project` back to their targets (min: up to them)
        if self.entropy.actuated:
            self.entropy.actuate(progress, dist.heads, self._uniform_weights(b))
        nets.polyak_(s.tau)

        masked = [h for h in heads if h in b.action_masks]
        with torch.no_grad():
            stats = torch.stack([c_loss, a_loss, q_taken.mean(),
                                 *(ents[h].mean() for h in heads),
                                 *(log_valid(b.action_masks[h], self.heads[h]).float().mean()
                                   for h in masked)])
        raw = stats.tolist()  # one host sync per gradient step, for the checks and the logs
        for name, v in zip(("loss/value", "loss/policy"), raw[:2]):
            if not math.isfinite(v):
                raise TrainingDiverged(f"{name} became {v} at global step {self.global_step}; "
                                       f"training stopped{self._last_good()}")
        k = len(heads)
        ent = dict(zip(heads, raw[3:3 + k]))
        # each temperature's controller sees this batch's entropy of its head (detached)
        self.entropy.observe(ent, progress, dict(zip(masked, raw[3 + k:])))
        return {"loss/value": raw[0], "loss/policy": raw[1], "diag/q_mean": raw[2],
                **{f"entropy/{h}": v for h, v in ent.items()}}

    def _uniform_weights(self, b: ReplayBatch) -> dict[str, Tensor]:
        """Every sample of a replay batch weighs the same in each head's entropy."""
        n = b.rewards.shape[0]
        return dict.fromkeys(self.heads, torch.full((n,), 1.0 / n, device=self.device))

    def set_target(self, head: str, value: float | dict[str, float]) -> None:
        """Hold `head`'s entropy at (min: above) a new target from now on: nats, or
        {"fraction": V} / {"std": V}. Overrides the configured target schedule."""
        self.entropy.set_target(head, value)

    # -- checkpoint state beyond the shared part ------------------------------------------
    def _state(self) -> dict[str, Any]:
        return {"critic_optimizer": self.critic_optimizer.state_dict(),
                "entropy": self.entropy.state_dict(),
                "noise": {h: n.state_dict() for h, n in self.noise.items()},
                "replay": (self.buffer.state_dict() if self.config.sac.save_replay_buffer
                           else None)}

    def _load_state(self, state: dict[str, Any]) -> None:
        self.critic_optimizer.load_state_dict(state["critic_optimizer"])
        self.entropy.load_state_dict(state["entropy"])
        for h, n in self.noise.items():
            if h in state.get("noise", {}):
                n.load_state_dict(state["noise"][h])
        if state.get("replay") is not None:
            self.buffer.load_state_dict(state["replay"])
