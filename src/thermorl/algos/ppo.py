"""PPO: collect a rollout from the vector env, then a few epochs of clipped-surrogate updates.

Reads top to bottom: `_collect` fills the preallocated buffer (one forward pass per step for all
envs), `_update` runs the pure losses from `thermorl.losses` over shuffled minibatches. A
recurrent policy (`ppo.recurrent`) changes only where minibatches come from (whole padded
sequences, padding masked) and how the policy is called (with the sequences' start states):
`_update` and `_terms` are the same code for both.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..buffers import Batch, RolloutBuffer, sequence_minibatches
from ..config import Config
from ..config_io import resolve
from ..envs import EnvSource
from ..entropy import EntropyControl
from ..entropy.noise import noise_eps, restart_noise
from ..entropy.resolve import head_settings
from ..envs.masks import log_valid
from ..errors import TrainingDiverged
from ..losses import (approx_kl, clip_fraction, clipped_surrogate, entropy_loss,
                      explained_variance, masked_mean, masked_normalize, value_loss)
from ..nets import ActorCritic, RecurrentActorCritic
from ..nets.fused import FusedActorCritic, unsupported
from ..normalize import RewardScaler
from ..optim import adam_step
from .base import Algorithm
from .ppo_fused import FusedLoss

LOSS_TERMS = ("loss/policy", "loss/value", "loss/entropy")


def make_config(env_id: str = "CartPole-v1", **dotted: Any) -> Config:
    """A resolved config for `env_id`: its preset, then `dotted` overrides such as
    `**{"ppo.num_envs": 8}` or `total_timesteps=50_000`."""
    return resolve(base={"env_id": env_id}, overrides=dotted)[0]


def term_keys(heads: list[str], masked: list[str]) -> list[str]:
    """The order of a minibatch's terms, as `_update` reads them."""
    return ["loss/policy", "loss/value", "loss/entropy", "diag/approx_kl", "diag/clip_fraction",
            *(f"entropy/{h}" for h in heads), *(f"used/{h}" for h in heads),
            *(f"max_entropy/{h}" for h in masked)]


class PPO(Algorithm):
    """`PPO(env_id_or_factory, config).learn()`; see `thermorl.make_config` for configs."""

    algo_name = "ppo"

    def __init__(self, env: EnvSource | None = None, config: Config | None = None, *,
                 run_dir: str | Path | None = None):
        if config is None:
            config = make_config(env if isinstance(env, str) else "CartPole-v1")
        p = config.ppo
        self.num_envs, self._norm_obs = p.num_envs, p.norm_obs
        super().__init__(env, config, run_dir)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            if p.recurrent == "none":
                self.policy = ActorCritic(self.obs_dim, self.heads, config.policy,
                                          self.used_when).to(self.device)
            else:
                self.policy = RecurrentActorCritic(
                    self.obs_dim, self.heads, config.policy, p.recurrent, p.rnn_hidden,
                    p.shared_rnn, self.used_when).to(self.device)
        self.recurrent = p.recurrent != "none"
        state_size = self.policy.state_size if self.recurrent else 0
        # the fused path: hand-written gradients into one flat tensor, one fused Adam step
        self.fused = (FusedActorCritic(self.policy)
                      if p.fused and unsupported(self.policy) is None else None)
        if self.fused is not None:
            self.fused_loss = FusedLoss(self.fused, self.heads, p)
            self.optimizer = torch.optim.Adam([self.fused.flat.param], lr=p.learning_rate,
                                              eps=1e-5, fused=self.device.type in ("cpu", "cuda"))
        else:
            self.optimizer = torch.optim.Adam(self.policy.parameters(), lr=p.learning_rate,
                                              eps=1e-5)
        self.entropy = EntropyControl(head_settings(config.entropy, self.heads, p.ent_coef),
                                      self.heads)
        self.entropy.attach(self.policy.heads, config.policy.log_std_init is None)
        self.buffer = RolloutBuffer(p.num_steps, p.num_envs, self.obs_dim, self.heads, self.device,
                                    state_size)
        self.reward_scaler = (RewardScaler(p.num_envs, p.gamma, p.clip_reward)
                              if p.norm_reward else None)
        self.noise = self._make_noise(p.num_envs, config.seed)
        # recurrent: each env's hidden state, and whether its next observation begins an episode
        self._rnn_state = torch.zeros(p.num_envs, state_size, device=self.device)
        self._starts = np.ones(p.num_envs, bool)

    def _on_env_reset(self) -> None:
        """Every env begins a new episode (a fresh run, or a resumed one): so does memory."""
        super()._on_env_reset()
        self._starts[:] = True

    # -- one iteration --------------------------------------------------------------------
    def _train_step(self, total: int) -> dict[str, float]:
        p = self.config.ppo
        batch = p.num_envs * p.num_steps
        num_updates = max(-(-total // batch), 1)
        # 0 at the first update, (N-1)/N at the last: annealed values end small but nonzero
        progress = min(self.updates, num_updates - 1) / num_updates
        lr = p.learning_rate * (1.0 - progress if p.anneal_lr else 1.0)
        clip = p.clip_coef * (1.0 - progress if p.anneal_clip else 1.0)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        t0 = time.perf_counter()
        # the heads meet this update's target before they act: the first minibatch's ratio is
        # then 1, and a head far from its target (a new run's) is not corrected mid-update
        self.entropy.actuate(progress, *self._acting_dists())
        self._collect()
        t1 = time.perf_counter()
        metrics = self._update(clip, progress)
        t2 = time.perf_counter()
        self.timing["collect"] += t1 - t0
        self.timing["update"] += t2 - t1
        self.updates += 1
        recent = float(np.mean(self.recent_returns)) if self.recent_returns else None
        metrics.update(self.entropy.end_update(
            {h: metrics[f"entropy/{h}"] for h in self.heads}, progress, recent))
        metrics.update({"diag/learning_rate": lr, "diag/clip_coef": clip,
                        "perf/sps": batch / (t2 - t0), "perf/collect_s": t1 - t0,
                        "perf/update_s": t2 - t1})
        if recent is not None:
            metrics["episode/return"] = recent
            metrics["episode/length"] = float(np.mean(self.recent_lengths))
        return metrics

    @torch.inference_mode()
    def _collect(self) -> None:
        p, buf, dev = self.config.ppo, self.buffer, self.device
        # per-step outputs are stacked into the buffer once, after the loop
        values, log_probs, actions = [], [], {name: [] for name in buf.actions}
        for t in range(p.num_steps):
            obs = buf.put_obs(t, self._obs)
            if self.recurrent:
                state = self._start_states()
                buf.starts[t] = torch.as_tensor(self._starts, device=dev)
                buf.states[t] = state
                dist, value, self._rnn_state = self.policy.step(obs, state, self._cur_masks)
            else:
                dist, value = self._act_forward(obs, self._cur_masks)
            action, log_prob = dist.sample_log_prob(self.sample_gen, noise_eps(self.noise, dev))
            if self._cur_masks or buf.action_masks:
                buf.store_masks(t, self._cur_masks)
            values.append(value)
            log_probs.append(log_prob)
            for name, a in action.items():
                actions[name].append(a)
            # With next-step autoreset, the step after an episode's end only resets the env:
            # its action is ignored, so it is not a transition to learn from.
            real = ~self._prev_end
            env_action = self.action_layout.to_env({k: a.cpu().numpy() for k, a in action.items()})
            next_obs, reward, term, trunc, info = self._step_envs(env_action)
            self.global_step += p.num_envs
            self._check_finite("reward", np.asarray(reward))
            end = term | trunc
            self._track_episodes(reward, end, real)
            if self.reward_scaler is not None:
                reward = self.reward_scaler(reward, end)
            buf.put_env_step(t, real, reward, term, end)
            self._prev_end = end
            self._starts = ~real  # after a reset-only step, the next observation begins anew
            if self.noise and not real.all():  # a reset-only step: a new episode starts next
                restart_noise(self.noise, np.flatnonzero(~real))
            self._obs = self._prep_obs(next_obs, update=True)
            self._cur_masks = self._masks(info, next_obs)
        torch.stack(values, out=buf.values)
        torch.stack(log_probs, out=buf.log_probs)
        for name, a in actions.items():
            torch.stack(a, out=buf.actions[name])
        obs = torch.as_tensor(self._obs, device=dev)
        last_value = (self.policy.value_step(obs, self._start_states()) if self.recurrent
                      else self.fused.act(obs)[1] if self.fused is not None
                      else self.policy.value(obs))
        buf.compute_returns(last_value, p.gamma, p.gae_lambda)

    @torch.no_grad()
    def _acting_dists(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        """For the actuators of heads whose entropy depends on the state: the heads'
        distributions on the last rollout's real steps (the states the next rollout will see
        most like), or on the envs' current observations before the first rollout and for a
        recurrent policy; with each sample's weight (the actuators normalize them)."""
        if not self.entropy.needs_data or self._obs is None:
            return {}, {}
        buf = self.buffer
        if self.updates > 0 and not self.recurrent:
            obs = buf.obs.reshape(-1, self.obs_dim)
            masks = {h: m.reshape(len(obs), -1) for h, m in buf.action_masks.items()}
            w = buf.valid.reshape(-1)
            dist = self._act_forward(obs, masks)[0]
        else:
            obs = torch.as_tensor(self._obs, device=self.device)
            w = torch.ones(len(obs), device=self.device)
            dist = (self.policy.step(obs, self._start_states(), self._cur_masks)[0]
                    if self.recurrent else self._act_forward(obs, self._cur_masks)[0])
        return dict(dist.heads), dict.fromkeys(self.heads, w)

    def _act_forward(self, obs: torch.Tensor, masks: dict[str, torch.Tensor]) -> tuple[Any, Any]:
        """A feed-forward policy's distribution and value for acting (fused where it can)."""
        return self.fused.act(obs, masks) if self.fused is not None else self.policy(obs, masks)

    def _start_states(self) -> torch.Tensor:
        """The carried hidden states, zeroed for the envs whose episode starts at this step."""
        fresh = torch.as_tensor(self._starts, device=self.device).unsqueeze(-1)
        return torch.where(fresh, torch.zeros_like(self._rnn_state), self._rnn_state)

    def _update(self, clip: float, progress: float) -> dict[str, float]:
        p, buf = self.config.ppo, self.buffer
        heads = list(self.heads)
        masked = [h for h in heads if h in buf.action_masks]
        keys = [*LOSS_TERMS, "diag/approx_kl", "diag/clip_fraction", "diag/grad_norm",
                *(f"entropy/{h}" for h in heads)]
        sums = dict.fromkeys(keys, 0.0)
        counts = dict.fromkeys(keys, 0)
        stopped_early = False
        epochs = 0
        params = list(self.policy.parameters())
        for epochs in range(1, p.update_epochs + 1):
            batches = list(self._minibatches())
            if self.fused is not None:
                self.fused_loss.prepare(batches)
            for mb in batches:
                coefs = self.entropy.coefs(progress)
                if self.fused is not None:  # the gradient is written along with the terms
                    loss, (raw, fused_norm) = None, self.fused_loss(mb, clip, coefs)
                    dist, weights = self.fused_loss.last_dist, self.fused_loss.last_weights
                else:
                    loss, terms, dist, weights = self._terms(mb, clip, coefs)
                    with torch.no_grad():
                        stats = torch.stack([terms[k] for k in term_keys(heads, masked)])
                    raw = stats.tolist()  # one host sync per minibatch, for all checks and logs
                k = len(heads)
                ent_vals = [v if n > 0 else float("nan")  # a head unused in this minibatch
                            for v, n in zip(raw[5:5 + k], raw[5 + k:5 + 2 * k])]
                values = raw[:5] + ent_vals
                for name, v in zip(LOSS_TERMS, values):
                    if not np.isfinite(v):
                        raise TrainingDiverged(
                            f"{name} became {v} at global step {self.global_step} (update "
                            f"{self.updates + 1}); training stopped{self._last_good()}")
                if p.target_kl is not None and values[3] > p.target_kl:
                    stopped_early = True  # this minibatch moved too far: skip its step
                    break
                # the controllers see this minibatch's entropy (detached) after it is used
                self.entropy.observe(dict(zip(heads, ent_vals)), progress,
                                     dict(zip(masked, raw[5 + 2 * k:])))
                if loss is not None:
                    self.optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    grad_norm = float(torch.nn.utils.clip_grad_norm_(params, p.max_grad_norm)
                                      if p.max_grad_norm > 0 else 0.0)
                    self.optimizer.step()
                else:  # clip_grad_norm_'s rule on the one flat gradient
                    grad_norm = fused_norm
                    scale = p.max_grad_norm / (grad_norm + 1e-6)
                    if p.max_grad_norm > 0 and scale < 1.0:
                        self.fused.flat.grad.mul_(scale)
                    adam_step(self.optimizer)
                (self.fused or self.policy).project_()
                # the actuators put each head's entropy back on its target, so the next
                # minibatch's ratio and approx-KL see the corrected policy
                self.entropy.actuate(progress, dist.heads, weights)
                for key, v in zip(keys, values[:5] + [grad_norm] + values[5:]):
                    if v == v:  # NaN: a head unused in this minibatch adds nothing
                        sums[key] += v
                        counts[key] += 1
            if stopped_early:
                break
        out = {key: v / max(counts[key], 1) for key, v in sums.items()}
        n_mb = counts["loss/policy"]
        out["diag/epochs"] = float(epochs)
        out["diag/minibatches"] = float(n_mb)
        out["diag/explained_variance"] = float(explained_variance(
            buf.values.reshape(-1), buf.returns.reshape(-1), buf.valid.reshape(-1)))
        return out

    def _minibatches(self) -> Any:
        p = self.config.ppo
        if self.recurrent:
            return sequence_minibatches(self.buffer, p.seq_len, p.burn_in, p.num_minibatches,
                                        self.shuffle_gen)
        return self.buffer.minibatches(p.num_minibatches, self.shuffle_gen)

    def _terms(self, mb: Batch, clip: float, coefs: dict[str, Any]
               ) -> tuple[torch.Tensor, dict[str, torch.Tensor], Any, dict[str, torch.Tensor]]:
        """The loss of one minibatch, its named terms, every one a masked mean over the real
        samples (`mb.mask`: not reset-only steps, not sequence padding), the policy's
        distribution and each head's sample weights in its entropy (for the actuators).
        `used/<h>` counts the samples that weigh in head h's entropy; `max_entropy/<h>` is a
        masked head's mean log(valid actions)."""
        p = self.config.ppo
        heads = list(self.heads)
        if mb.seq is None:
            dist, value = self.policy(mb.obs, mb.action_masks)
        else:
            dist, value = self.policy.forward_seq(mb.obs, mb.action_masks, mb.seq)
        log_ratio = dist.log_prob(mb.actions) - mb.log_probs
        ratio = log_ratio.exp()
        adv = masked_normalize(mb.advantages, mb.mask) if p.norm_adv else mb.advantages
        entropies = dist.entropy()
        # a parameter head's entropy counts only where its option was chosen
        usage = dist.usage(mb.actions)
        head_mask = {h: mb.mask * usage[h] if h in usage else mb.mask for h in heads}
        pg_loss = clipped_surrogate(ratio, adv, clip, mb.mask)
        v_loss = value_loss(value, mb.returns, mb.values, clip if p.clip_vloss else None,
                            mb.mask)
        ent_loss = entropy_loss(entropies, coefs, head_mask)
        loss = pg_loss + p.vf_coef * v_loss + ent_loss
        terms = {"loss/policy": pg_loss, "loss/value": v_loss, "loss/entropy": ent_loss}
        with torch.no_grad():
            terms["diag/approx_kl"] = approx_kl(log_ratio, mb.mask)
            terms["diag/clip_fraction"] = clip_fraction(ratio, clip, mb.mask)
            n_real = mb.mask.sum()  # parameter heads count only where chosen
            for h in heads:
                terms[f"entropy/{h}"] = masked_mean(entropies[h], head_mask[h])
                terms[f"used/{h}"] = head_mask[h].sum() if h in usage else n_real
            for h in mb.action_masks:
                terms[f"max_entropy/{h}"] = masked_mean(
                    log_valid(mb.action_masks[h], self.heads[h]), head_mask[h])
        return loss, terms, dist, head_mask

    def set_target(self, head: str, value: float | dict[str, float]) -> None:
        """Hold `head`'s entropy at a new target from now on (a curriculum stage): nats, or
        {"fraction": V} / {"std": V}. Overrides the configured target schedule."""
        self.entropy.set_target(head, value)

    # -- checkpoint state beyond the shared part ------------------------------------------
    def _state(self) -> dict[str, Any]:
        rs = self.reward_scaler
        return {"ret_rms": rs.rms.state_dict() if rs else None,
                "ret_acc": torch.from_numpy(rs.ret.copy()) if rs else None,
                "entropy": self.entropy.state_dict(),
                "noise": {h: n.state_dict() for h, n in self.noise.items()}}

    def _load_state(self, state: dict[str, Any]) -> None:
        self.entropy.load_state_dict(state["entropy"])
        for h, n in self.noise.items():
            if h in state.get("noise", {}):
                n.load_state_dict(state["noise"][h])
        if self.reward_scaler is not None and state.get("ret_rms") is not None:
            self.reward_scaler.rms.load_state_dict(state["ret_rms"])
            self.reward_scaler.ret = state["ret_acc"].numpy().copy()
