"""SAC: collect a few env steps into the replay buffer, then a few of the learner's gradient
steps on sampled batches; the temperatures are the same per-head controllers as PPO's entropy
coefficients.

Reads top to bottom: `_train_step` runs a round of `log_interval` env steps, `_collect` steps
the envs through the collector (uniformly random actions until `learning_starts`) into the
replay buffer, and `thermorl.learners.SACLearner` takes each gradient step.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Mapping

import gymnasium as gym
import numpy as np
import torch
from torch import Tensor

from ..buffers import ReplayBuffer
from ..collect import EnvStep
from ..config import Config
from ..config_io import make_config
from ..distributions import Categorical
from ..entropy import EntropyControl
from ..entropy.resolve import head_settings
from ..envs import EnvSource
from ..errors import ConfigError
from ..learners import Means, SACLearner
from ..learners.sac import MAX_JOINT_ACTIONS, joint_actions
from ..nets import encoder
from ..nets.sac import SACNets
from .base import Algorithm, generator_on

# atanh of a uniform warm-up action stays finite
_EDGE = 1.0 - 1e-6
# `sac.buffer_size: null`: Stable-Baselines3's million transitions, or for image observations
# DrQ's 100,000 (a million 96x96x3 frames, stored as obs and next obs, are 55 GB)
STATE_BUFFER, PIXEL_BUFFER = 1_000_000, 100_000


def buffer_size(configured: int | None, obs_space: gym.Space) -> int:
    """The replay capacity `sac.buffer_size` asks for, with null resolved by the observation."""
    if configured is not None:
        return configured
    return PIXEL_BUFFER if encoder.find(obs_space, False) is not None else STATE_BUFFER


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
        n_joint = joint_actions(self.heads)
        if n_joint > MAX_JOINT_ACTIONS:
            raise ConfigError(f"SAC enumerates the joint discrete actions and this action space "
                              f"has {n_joint:,}; accepted: at most {MAX_JOINT_ACTIONS:,}")
        self.cont = [h for h, sp in self.heads.items() if not sp.discrete]
        n_cont = sum(self.heads[h].dim for h in self.cont)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            self.policy = SACNets(self.obs_dim, self.heads, config.policy, n_cont,
                                  n_joint, self.image).to(self.device)
        self.entropy = EntropyControl(head_settings(config.entropy, self.heads, 0.0, "sac"),
                                      self.heads)
        # the learner draws its actions' noise on the device (the replay indices stay on the
        # CPU's shuffle generator): a CPU generator cannot draw CUDA tensors
        self.learn_gen = generator_on(self.device, self.shuffle_gen, config.seed + 2)
        self.learner = SACLearner(self.policy, self.heads, s, self.entropy, self.learn_gen)
        self.entropy.attach(self.policy.actor.heads, config.policy.log_std_init is None)
        self.buffer = ReplayBuffer(buffer_size(s.buffer_size, self.obs_space), self.obs_dim,
                                   self.heads, self.device,
                                   torch.uint8 if self.obs_layout.byte_valued else torch.float32)
        self.collector.noise = self._make_noise(s.num_envs, config.seed)

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
        start, t0 = self.global_step, time.perf_counter()
        end = min(start + s.log_interval, total)
        means = Means()
        steps = 0
        while self.global_step < end and not (self._stop is not None and self.global_step > start):
            # (a first Ctrl-C ends the round early: rounds are long when steps are slow)
            progress = self.global_step / total
            tc = time.perf_counter()
            self._collect(min(s.train_freq, -(-(total - self.global_step) // n)))
            tu = time.perf_counter()
            self.timing["collect"] += tu - tc
            self._hooks.rollout_end(self)
            tu = time.perf_counter()
            if self.global_step > s.learning_starts and len(self.buffer) > 0:
                for _ in range(s.gradient_steps):
                    batch = self.buffer.sample(s.batch_size, self.shuffle_gen)
                    means.add(self.learner.update(batch, progress))
                    steps += 1
                self.timing["update"] += time.perf_counter() - tu
        dt = time.perf_counter() - t0
        self.updates += 1
        metrics = means.means()
        episodes = self.collector.episode_stats()
        metrics.update(self.entropy.end_update(
            {h: metrics.get(f"entropy/{h}", float("nan")) for h in self.heads},
            self.global_step / total, episodes.get("episode/return")))
        metrics.update({"diag/gradient_steps": float(steps), "diag/buffer_size": len(self.buffer),
                        "perf/sps": (self.global_step - start) / dt, **episodes})
        return metrics

    # -- collection -----------------------------------------------------------------------
    @torch.inference_mode()
    def _collect(self, steps: int) -> None:
        self.collector.run(steps, self._act, self._record)

    def _act(self, obs: Tensor, masks: Mapping[str, Tensor], starts: np.ndarray
             ) -> tuple[dict[str, Tensor], None]:
        if self.global_step < self.config.sac.learning_starts:
            return self._random_actions(len(obs), masks), None
        return self.policy.dist(obs, masks).sample(self.sample_gen,
                                                    self.collector.noise_eps()), None

    def _record(self, t: int, obs: Tensor, masks: Mapping[str, Tensor],
                raw: Mapping[str, Tensor], extra: Any, step: EnvStep) -> None:
        dev = self.device
        stored = {h: torch.tanh(a) if h in self.cont else a for h, a in raw.items()}
        # a truncated episode's final observation is `step.obs` (next-step autoreset), so s'
        # is the real one
        self.buffer.add(obs, stored, torch.as_tensor(step.reward, device=dev),
                        torch.as_tensor(step.obs, device=dev),
                        torch.as_tensor(step.terminated, device=dev),
                        torch.as_tensor(step.real, device=dev), masks, step.masks)

    def _random_actions(self, n: int, masks: Mapping[str, Tensor]) -> dict[str, Tensor]:
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

    # -- checkpoint state beyond the shared part ------------------------------------------
    def _state(self) -> dict[str, Any]:
        separate = self.learn_gen is not self.shuffle_gen  # on a device: its own state
        return {"replay": (self.buffer.state_dict() if self.config.sac.save_replay_buffer
                           else None),
                "learn_gen": self.learn_gen.get_state() if separate else None}

    def _load_state(self, state: dict[str, Any]) -> None:
        if state.get("replay") is not None:
            self.buffer.load_state_dict(state["replay"])
        # a state from another kind of device (or none, from a CPU run) leaves the fresh seed
        if self.learn_gen is not self.shuffle_gen and state.get("learn_gen") is not None:
            self.learn_gen.set_state(state["learn_gen"])
