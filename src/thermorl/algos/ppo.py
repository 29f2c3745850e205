"""PPO: collect a rollout from the vector env, then the learner's epochs of clipped-surrogate
updates on it.

Reads top to bottom: `_train_step` lets the entropy actuators meet this update's targets,
collects (`_collect`: the collector steps the envs, `_act` chooses, `_record` fills the
preallocated buffer), and hands the rollout to the learner (`thermorl.learners`: through
autograd, or fused where the policy allows). A recurrent policy (`ppo.recurrent`) carries each
env's hidden state here and is given whole padded sequences by its learner.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch
from torch import Tensor

from ..buffers import RolloutBuffer
from ..collect import EnvStep
from ..config import Config
from ..config_io import make_config
from ..entropy import EntropyControl
from ..entropy.resolve import head_settings
from ..envs import EnvSource
from ..learners import FusedPPOLearner, PPOLearner
from ..nets import ActorCritic, RecurrentActorCritic
from ..nets.fused import unsupported
from ..normalize import RewardScaler
from .base import Algorithm


class PPO(Algorithm):
    """`PPO(env_id_or_factory, config).learn()`; see `thermorl.make_config` for configs."""

    algo_name = "ppo"
    runner_backends = ("async", "ray")

    def __init__(self, env: EnvSource | None = None, config: Config | None = None, *,
                 run_dir: str | Path | None = None):
        if config is None:
            config = make_config(env if isinstance(env, str) else "CartPole-v1")
        p = config.ppo
        self.num_envs, self._norm_obs = p.num_envs, p.norm_obs
        super().__init__(env, config, run_dir)
        self.recurrent = p.recurrent != "none"
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            if not self.recurrent:
                self.policy = ActorCritic(self.obs_dim, self.heads, config.policy,
                                          self.used_when, self.image).to(self.device)
            else:
                self.policy = RecurrentActorCritic(
                    self.obs_dim, self.heads, config.policy, p.recurrent, p.rnn_hidden,
                    p.shared_rnn, self.used_when, self.image).to(self.device)
        self.entropy = EntropyControl(head_settings(config.entropy, self.heads, p.ent_coef),
                                      self.heads)
        # the fused learner (hand-written gradients into one flat tensor, one fused Adam
        # step) wherever the policy allows it; chosen once, here
        fused = p.fused and unsupported(self.policy) is None
        self.learner = (FusedPPOLearner if fused else PPOLearner)(
            self.policy, self.heads, p, self.entropy, self.shuffle_gen)
        self.entropy.attach(self.policy.heads, config.policy.log_std_init is None)
        state_size = self.policy.state_size if self.recurrent else 0
        self.buffer = RolloutBuffer(p.num_steps, p.num_envs, self.obs_dim, self.heads, self.device,
                                    state_size)
        self.reward_scaler = (RewardScaler(p.num_envs, p.gamma, p.clip_reward)
                              if p.norm_reward else None)
        self.collector.noise = self._make_noise(p.num_envs, config.seed)
        # recurrent: each env's hidden state after its latest step
        self._rnn_state = torch.zeros(p.num_envs, state_size, device=self.device)
        # a rollout's per-step (value, log-prob, action), stacked into the buffer at its end
        self._steps: list[tuple[Tensor, Tensor, Mapping[str, Tensor]]] = []
        self.runners = None  # worker processes or Ray actors that collect (from the 1st rollout)
        if config.selfplay.enabled:
            from ..selfplay.league import League
            self.league = League(self)

    # -- one iteration --------------------------------------------------------------------
    def _train_step(self, total: int) -> dict[str, float]:
        p = self.config.ppo
        batch = p.num_envs * p.num_steps
        num_updates = max(-(-total // batch), 1)
        # 0 at the first update, (N-1)/N at the last: annealed values end small but nonzero
        progress = min(self.updates, num_updates - 1) / num_updates
        t0 = time.perf_counter()
        # the heads meet this update's target before they act: the first minibatch's ratio is
        # then 1, and a head far from its target (a new run's) is not corrected mid-update
        self.entropy.actuate(progress, *self._acting_dists())
        self._collect()
        t1 = time.perf_counter()
        self._hooks.rollout_end(self)
        t2 = time.perf_counter()
        metrics = self.learner.update(self.buffer, progress)
        t3 = time.perf_counter()
        self.timing["collect"] += t1 - t0
        self.timing["update"] += t3 - t2
        self.updates += 1
        episodes = self.collector.episode_stats()
        metrics.update(self.entropy.end_update(
            {h: metrics[f"entropy/{h}"] for h in self.heads}, progress,
            episodes.get("episode/return")))
        metrics.update({"perf/sps": batch / (t3 - t0), "perf/collect_s": t1 - t0,
                        "perf/update_s": t3 - t2, **episodes})
        if self.runners is not None:
            metrics["runners/restarts"] = float(self.runners.restarts)
        return metrics

    @torch.inference_mode()
    def _collect(self) -> None:
        """One rollout into the buffer, with GAE over it."""
        if self.remote_runners:
            return self._collect_remote()
        p, buf, c = self.config.ppo, self.buffer, self.collector
        self._steps.clear()
        c.run(p.num_steps, self._act, self._record)
        values, log_probs, actions = zip(*self._steps)
        torch.stack(values, out=buf.values)
        torch.stack(log_probs, out=buf.log_probs)
        for name in buf.actions:
            torch.stack([a[name] for a in actions], out=buf.actions[name])
        obs = torch.as_tensor(c.obs, device=self.device)
        last_value = (self.policy.value_step(obs, self._start_states(c.starts))
                      if self.recurrent else self.learner.value(obs))
        buf.compute_returns(last_value, p.gamma, p.gae_lambda)

    def _collect_remote(self) -> None:
        """One rollout from the runners (worker processes or Ray actors), their shares side by
        side in env order as one vector env would have stepped them (collect/ray_runners.py)."""
        p, buf, c = self.config.ppo, self.buffer, self.collector
        if self.runners is None:
            if self.config.runners.backend == "ray":
                from ..collect.ray_runners import RayRunners
                self.runners = RayRunners(self.env_source, self.config)
            else:
                from ..collect.process_runners import ProcessRunners
                self.runners = ProcessRunners(self.env_source, self.config)
        stats = self.obs_norm.rms.state_dict() if self.obs_norm is not None else None
        weights = {k: v.detach().cpu() for k, v in self.policy.state_dict().items()}
        parts = self.runners.collect(weights, stats, self.global_step)

        def cat(key: str) -> Tensor:  # [T, n_i, ...] per runner -> [T, N, ...]
            return torch.cat([r[key] for r in parts], 1).to(self.device)

        buf.obs.copy_(cat("obs"))
        buf.log_probs.copy_(cat("log_probs"))
        buf.values.copy_(cat("values"))
        for name in buf.actions:
            buf.actions[name].copy_(torch.cat([r["actions"][name] for r in parts], 1))
        for name in sorted({h for r in parts for h in r["masks"]}):
            buf.action_masks[name] = torch.cat(
                [r["masks"].get(name, torch.ones(p.num_steps, n, self.heads[name].n_logits,
                                                 dtype=torch.bool))
                 for r, n in zip(parts, self.runners.shares)], 1).to(self.device)
        if self.recurrent:
            buf.starts.copy_(cat("starts"))
            buf.states.copy_(cat("states"))
        end = torch.cat([r["episode_end"] for r in parts], 1).numpy()
        rewards = torch.cat([r["rewards"] for r in parts], 1).numpy().copy()
        if self.reward_scaler is not None:  # in time order over all envs, as a local run does
            for t in range(p.num_steps):
                rewards[t] = self.reward_scaler(rewards[t], end[t].astype(bool))
        buf.put_env_steps(torch.cat([r["valid"] for r in parts], 1).numpy(), rewards,
                          torch.cat([r["terminated"] for r in parts], 1).numpy(), end)
        if self.obs_norm is not None:
            for r in parts:
                self.obs_norm.rms.merge(*r["obs_seen"])
        for r in parts:
            for ret, length in r["finished"]:
                c.record_episode(ret, length)
        c.steps += p.num_steps * p.num_envs
        c.env_time += max(r["env_s"] for r in parts)  # the runners step at the same time
        buf.compute_returns(torch.cat([r["last_value"] for r in parts]).to(self.device),
                            p.gamma, p.gae_lambda)

    def _act(self, obs: Tensor, masks: Mapping[str, Tensor], starts: np.ndarray
             ) -> tuple[dict[str, Tensor], tuple[Any, ...]]:
        state = None
        if self.recurrent:
            state = self._start_states(starts)
            dist, value, self._rnn_state = self.policy.step(obs, state, masks)
        else:
            dist, value = self.learner.act(obs, masks)
        action, log_prob = dist.sample_log_prob(self.sample_gen, self.collector.noise_eps())
        return action, (log_prob, value, state, starts)

    def _record(self, t: int, obs: Tensor, masks: Mapping[str, Tensor],
                action: Mapping[str, Tensor], extra: tuple[Any, ...], step: EnvStep) -> None:
        buf = self.buffer
        log_prob, value, state, starts = extra
        buf.put_obs(t, obs)
        if state is not None:
            buf.starts[t] = torch.as_tensor(starts, device=self.device)
            buf.states[t] = state
        if masks or buf.action_masks:
            buf.store_masks(t, masks)
        self._steps.append((value, log_prob, action))
        reward = step.reward
        if self.reward_scaler is not None:
            reward = self.reward_scaler(reward, step.end)
        buf.put_env_step(t, step.real, reward, step.terminated, step.end)

    @torch.no_grad()
    def _acting_dists(self) -> tuple[dict[str, Any], dict[str, Tensor]]:
        """For the actuators of heads whose entropy depends on the state: the heads'
        distributions on the last rollout's real steps (the states the next rollout will see
        most like), or on the envs' current observations before the first rollout and for a
        recurrent policy; with each sample's weight (the actuators normalize them)."""
        c = self.collector
        if not self.entropy.needs_data or c.obs is None:
            return {}, {}
        buf = self.buffer
        if self.updates > 0 and not self.recurrent:
            obs = buf.obs.reshape(-1, self.obs_dim)
            masks = {h: m.reshape(len(obs), -1) for h, m in buf.action_masks.items()}
            w = buf.valid.reshape(-1)
            dist = self.learner.act(obs, masks)[0]
        elif self.updates > 0 and self.remote_runners:  # recurrent, collected by runners:
            # the last step's observations, from the states the runners' policies were in
            obs, w = buf.obs[-1], buf.valid[-1]
            masks = {h: m[-1] for h, m in buf.action_masks.items()}
            dist = self.policy.step(obs, buf.states[-1], masks)[0]
        else:
            obs = torch.as_tensor(c.obs, device=self.device)
            w = torch.ones(len(obs), device=self.device)
            # before any rollout a recurrent policy starts from zeros (a learner with runners
            # holds fewer envs than its state has rows)
            state = (self._start_states(c.starts) if len(obs) == self.num_envs
                     else self.policy.initial_state(len(obs), self.device)) \
                if self.recurrent else None
            dist = (self.policy.step(obs, state, c.masks)[0]
                    if self.recurrent else self.learner.act(obs, c.masks)[0])
        return dict(dist.heads), dict.fromkeys(self.heads, w)

    def _start_states(self, starts: np.ndarray) -> Tensor:
        """The carried hidden states, zeroed for the envs whose episode starts at this step."""
        fresh = torch.as_tensor(starts, device=self.device).unsqueeze(-1)
        return torch.where(fresh, torch.zeros_like(self._rnn_state), self._rnn_state)

    def close(self) -> None:
        # getattr: at exit, a PPO whose own checks rejected its config is closed too
        if getattr(self, "runners", None) is not None:
            self.runners.close()
            self.runners = None
        super().close()

    # -- acting outside training (predict, evaluate) --------------------------------------
    def _initial_state(self, n: int) -> Tensor | None:
        return self.policy.initial_state(n, self.device) if self.recurrent else None

    def _policy_act(self, obs: Tensor, masks: dict[str, Tensor], state: Tensor | None
                    ) -> tuple[Any, Tensor | None]:
        if state is None:
            return self.policy.dist(obs, masks), None
        dist, _, state = self.policy.step(obs, state, masks)
        return dist, state

    # -- checkpoint state beyond the shared part ------------------------------------------
    def _state(self) -> dict[str, Any]:
        rs = self.reward_scaler
        return {"ret_rms": rs.rms.state_dict() if rs else None,
                "ret_acc": torch.from_numpy(rs.ret.copy()) if rs else None}

    def _load_state(self, state: dict[str, Any]) -> None:
        if self.reward_scaler is not None and state.get("ret_rms") is not None:
            self.reward_scaler.rms.load_state_dict(state["ret_rms"])
            self.reward_scaler.ret = state["ret_acc"].numpy().copy()
