"""The collector: steps one vector env under a policy and does the bookkeeping that PPO's
rollouts, SAC's collection and evaluation share.

What it owns is what lives on the env side of a run: the vector env, the current (prepared)
observations and action masks, next-step autoreset (the step after an episode's end only resets
that env: its action is ignored, so it is not a transition), the finiteness checks, episode
returns and lengths, and the colored-noise sources, which restart where an episode does. What
the policy does with an observation, and where a step is stored, are the caller's: `run` takes
an `act` function and a `record` function, so one loop serves an on-policy rollout buffer, a
replay buffer and an evaluation alike.

Its surface is small and data only, so a runner elsewhere (another process, a Ray actor) can
hold one: weights go into the policy that `act` closes over, steps come out through `record`.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Mapping, NamedTuple

import gymnasium as gym
import numpy as np
import torch
from torch import Tensor

from ..entropy.noise import ColoredNoise, noise_eps, restart_noise
from ..envs.masks import read_masks
from ..envs.spaces import ActionLayout, ObsLayout
from ..errors import TrainingDiverged
from ..normalize import ObsNormalizer

RECENT_EPISODES = 20  # episode/return is the mean over this many most recent episodes

# act(obs [N, obs_dim] on the device, masks, starts [N] bool: the step begins an episode)
#   -> (actions by head, anything the caller wants back in `record`)
Act = Callable[[Tensor, Mapping[str, Tensor], np.ndarray], tuple[Mapping[str, Tensor], Any]]


class EnvStep(NamedTuple):
    """One step of every env. `real` is False where the step only reset the env."""

    reward: np.ndarray
    terminated: np.ndarray
    end: np.ndarray          # terminated or truncated
    real: np.ndarray
    obs: np.ndarray          # the next observations, prepared (flat, checked, normalized)
    masks: dict[str, Tensor]  # the next action masks
    info: Any
    finished: list[tuple[int, float, int]]  # (env, return, length) of episodes ended here


# record(t, obs, masks, actions, what act returned, the env step)
Record = Callable[[int, Tensor, Mapping[str, Tensor], Mapping[str, Tensor], Any, EnvStep], None]


@dataclass(frozen=True)
class Episodes:
    returns: np.ndarray
    lengths: np.ndarray
    outcomes: list[str]  # the final info["outcome"] of envs that judge episodes (win/loss/draw)


class Collector:
    """Steps `envs` (a gymnasium vector env with next-step autoreset). Observations are
    flattened by `obs_layout`, checked, and normalized by `obs_norm` when given (its statistics
    updated only while `update_norm`). Error messages cite `clock()` as the global step (the
    collector's own `steps` by default)."""

    def __init__(self, envs: gym.vector.VectorEnv, obs_layout: ObsLayout,
                 action_layout: ActionLayout, device: torch.device,
                 obs_norm: ObsNormalizer | None = None,
                 noise: dict[str, ColoredNoise] | None = None, update_norm: bool = True,
                 clock: Callable[[], int] | None = None):
        self.envs, self.num_envs = envs, envs.num_envs
        self.obs_layout, self.action_layout = obs_layout, action_layout
        self.heads = action_layout.heads
        self.device, self.obs_norm, self.update_norm = device, obs_norm, update_norm
        self.noise = noise or {}
        self.clock = clock or (lambda: self.steps)
        self.steps = 0           # env steps taken, all envs together
        self.env_time = 0.0      # seconds inside envs.step
        self.obs: np.ndarray | None = None
        self.masks: dict[str, Tensor] = {}
        self.prev_end = np.zeros(self.num_envs, bool)
        self.starts = np.ones(self.num_envs, bool)  # the next step begins an episode
        self.recent_returns: deque[float] = deque(maxlen=RECENT_EPISODES)
        self.recent_lengths: deque[int] = deque(maxlen=RECENT_EPISODES)
        # every finished episode's (return, length), kept only where asked (a runner in another
        # process hands them to the learner, then clears the list)
        self.finished: list[tuple[float, int]] | None = None
        self._ep_ret = np.zeros(self.num_envs)
        self._ep_len = np.zeros(self.num_envs, int)

    # -- observations ---------------------------------------------------------------------
    def prepare(self, obs: Any, update: bool = False) -> np.ndarray:
        """Flatten, check, and normalize a batch of env observations."""
        flat = self.obs_layout.flatten(obs)
        self.check_finite("observation", flat)
        if self.obs_norm is not None:
            return self.obs_norm(flat, update)
        # an env may write its next observations into the array it returned: keep our own
        return flat.copy() if np.may_share_memory(flat, obs) else flat

    def read_masks(self, info: Any, obs: Any) -> dict[str, Tensor]:
        n = self.obs_layout.count(obs)
        return {k: torch.as_tensor(m, device=self.device)
                for k, m in read_masks(info, obs, self.heads, n, self.clock()).items()}

    def check_finite(self, what: str, x: np.ndarray) -> None:
        if not np.isfinite(x).all():
            bad = np.flatnonzero(~np.isfinite(x).reshape(x.shape[0], -1).all(1))
            raise TrainingDiverged(f"NaN or Inf in the {what} from env {int(bad[0])} at "
                                   f"global step {self.clock()}; training stopped")

    # -- stepping -------------------------------------------------------------------------
    def reset(self, seed: int | None = None) -> None:
        """Every env starts a new episode (a fresh run, a resumed one, an evaluation)."""
        obs, info = self.envs.reset(seed=seed)
        self.obs = self.prepare(obs, self.update_norm)
        self.masks = self.read_masks(info, obs)
        self.prev_end[:] = False
        self.starts[:] = True
        self._ep_ret[:] = 0.0
        self._ep_len[:] = 0

    def noise_eps(self) -> dict[str, Tensor] | None:
        """This step's colored-noise draws per noisy head (None when no head is noisy)."""
        return noise_eps(self.noise, self.device)

    def step(self, actions: Mapping[str, Tensor]) -> EnvStep:
        """Send one batched action (by head, on any device) to the envs."""
        env_action = self.action_layout.to_env({k: a.cpu().numpy() for k, a in actions.items()})
        t = time.perf_counter()
        next_obs, reward, term, trunc, info = self.envs.step(env_action)
        self.env_time += time.perf_counter() - t
        self.steps += self.num_envs
        reward = np.asarray(reward)
        self.check_finite("reward", reward)
        real = ~self.prev_end
        end = term | trunc
        finished = self._track_episodes(reward, end, real)
        self.prev_end = end
        self.starts = ~real  # after a reset-only step, the next observation begins anew
        if self.noise and not real.all():
            restart_noise(self.noise, np.flatnonzero(~real))
        # a truncated episode's final observation is `next_obs` here (next-step autoreset)
        self.obs = self.prepare(next_obs, self.update_norm)
        self.masks = self.read_masks(info, next_obs)
        return EnvStep(reward, term, end, real, self.obs, self.masks, info, finished)

    def run(self, steps: int, act: Act, record: Record | None = None) -> None:
        """`steps` steps of every env: `act` chooses, the envs step, `record` stores."""
        for t in range(steps):
            obs = torch.as_tensor(self.obs, device=self.device)
            masks = self.masks
            actions, extra = act(obs, masks, self.starts)
            step = self.step(actions)
            if record is not None:
                record(t, obs, masks, actions, extra, step)

    def _track_episodes(self, reward: np.ndarray, end: np.ndarray, real: np.ndarray
                        ) -> list[tuple[int, float, int]]:
        """Reset-only steps (not `real`) add nothing."""
        self._ep_ret += np.where(real, reward, 0.0)
        self._ep_len += real
        if not end.any():
            return []
        finished = [(int(i), float(self._ep_ret[i]), int(self._ep_len[i]))
                    for i in np.flatnonzero(end & real)]
        for _, ret, length in finished:
            self.record_episode(ret, length)
        self._ep_ret[end] = 0.0
        self._ep_len[end] = 0
        return finished

    def record_episode(self, ret: float, length: int) -> None:
        """Count one finished episode (here, or in a runner elsewhere)."""
        self.recent_returns.append(ret)
        self.recent_lengths.append(length)
        if self.finished is not None:
            self.finished.append((ret, length))

    def episode_stats(self) -> dict[str, float]:
        """`episode/return` and `episode/length` over the most recent episodes (none yet:
        empty)."""
        if not self.recent_returns:
            return {}
        return {"episode/return": float(np.mean(self.recent_returns)),
                "episode/length": float(np.mean(self.recent_lengths))}

    # -- evaluation -----------------------------------------------------------------------
    def episodes(self, act: Act, episodes: int, seed: int | None = None) -> Episodes:
        """Run `episodes` whole episodes from a reset, split as evenly as possible across the
        envs so that short episodes do not crowd out long ones (which would bias the mean)."""
        n = self.num_envs
        targets = np.array([(episodes + i) // n for i in range(n)])
        done = np.zeros(n, int)
        returns: list[float] = []
        lengths: list[int] = []
        outcomes: list[str] = []
        self.reset(seed)
        while (done < targets).any():
            obs = torch.as_tensor(self.obs, device=self.device)
            s = self.step(act(obs, self.masks, self.starts)[0])
            for i, ret, length in s.finished:
                if done[i] < targets[i]:
                    returns.append(ret)
                    lengths.append(length)
                    if "outcome" in s.info and s.info.get("_outcome", np.ones(n, bool))[i]:
                        outcomes.append(str(s.info["outcome"][i]))
                    done[i] += 1
        return Episodes(np.array(returns), np.array(lengths), outcomes)

    def close(self) -> None:
        self.envs.close()
