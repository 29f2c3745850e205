"""A preallocated rollout of T steps from N envs, and its minibatches (sequence minibatches for
recurrent policies are in `sequences.py`)."""

from __future__ import annotations

from typing import Iterator, Mapping

import numpy as np
import torch
from torch import Tensor

from ..envs.spaces import HeadSpec
from ..losses import gae
from .batch import Batch

ENV_FIELDS = ("valid", "rewards", "terminated", "episode_end")  # per step, from the envs


class RolloutBuffer:
    def __init__(self, num_steps: int, num_envs: int, obs_dim: int,
                 heads: Mapping[str, HeadSpec], device: torch.device, state_size: int = 0):
        T, N = num_steps, num_envs
        self.T, self.N = T, N

        def z(*shape: int, dtype: torch.dtype = torch.float32) -> Tensor:
            return torch.zeros(shape, dtype=dtype, device=device)

        self.heads, self.device = heads, device
        self.obs = z(T, N, obs_dim)
        self.actions = {name: (z(T, N, dtype=torch.long) if s.kind == "categorical" else
                               z(T, N, len(s.nvec), dtype=torch.long) if s.discrete else
                               z(T, N, s.dim)) for name, s in heads.items()}
        # a head's action masks are stored from the first time the env masks it
        self.action_masks: dict[str, Tensor] = {}
        self.log_probs, self.values, self.rewards = z(T, N), z(T, N), z(T, N)
        self.terminated, self.episode_end, self.valid = z(T, N), z(T, N), z(T, N)
        self.advantages, self.returns = z(T, N), z(T, N)
        # recurrent policies: where an episode starts, and the hidden state each step began
        # from (zero at episode starts), so training can start sequences where collection did
        self.starts = z(T, N, dtype=torch.bool)
        self.states = z(T, N, state_size) if state_size else None
        # What the envs return arrives as numpy every step. It is written into host arrays,
        # which on CPU are the tensors' own memory (no copy at all) and elsewhere are copied
        # over once per rollout by `flush()`. Observations go to the device every step (the
        # policy needs them there), so only on CPU do they get a host view.
        on_cpu = device.type == "cpu"
        self._host = {k: getattr(self, k).numpy() if on_cpu else np.zeros((T, N), np.float32)
                      for k in ENV_FIELDS}
        self._obs_host = self.obs.numpy() if on_cpu else None
        self._whole: Batch | None = None  # the rollout as one minibatch, one object per rollout

    def put_obs(self, t: int, obs: Tensor) -> None:
        """Store step t's observations (as the policy saw them, on the buffer's device)."""
        if self._obs_host is not None:  # on CPU: a numpy write, a third of a torch copy's cost
            self._obs_host[t] = obs.numpy()
        else:
            self.obs[t] = obs

    def put_env_step(self, t: int, valid: np.ndarray, rewards: np.ndarray,
                     terminated: np.ndarray, episode_end: np.ndarray) -> None:
        host = self._host
        host["valid"][t], host["rewards"][t] = valid, rewards
        host["terminated"][t], host["episode_end"][t] = terminated, episode_end

    def put_env_steps(self, valid: np.ndarray, rewards: np.ndarray, terminated: np.ndarray,
                      episode_end: np.ndarray) -> None:
        """The whole rollout's env-side data at once, [T, N] each (from runners elsewhere)."""
        host = self._host
        host["valid"][:], host["rewards"][:] = valid, rewards
        host["terminated"][:], host["episode_end"][:] = terminated, episode_end

    def flush(self) -> None:
        """Bring the env-side data of the rollout onto the device (a no-op on CPU)."""
        if self.device.type != "cpu":
            for k in ENV_FIELDS:
                getattr(self, k).copy_(torch.from_numpy(self._host[k]))

    def store_masks(self, t: int, masks: Mapping[str, Tensor]) -> None:
        for name in self.action_masks.keys() | masks.keys():
            if name not in self.action_masks:
                self.action_masks[name] = torch.ones(
                    (self.T, self.N, self.heads[name].n_logits), dtype=torch.bool,
                    device=self.device)
            if name in masks:
                self.action_masks[name][t] = masks[name]
            else:
                self.action_masks[name][t] = True

    def compute_returns(self, last_value: Tensor, gamma: float, lam: float) -> None:
        """GAE over the rollout; with next-step autoreset, V(s'_t) is simply values[t + 1]."""
        self.flush()
        self._whole = None
        next_values = torch.cat([self.values[1:], last_value.unsqueeze(0)], 0)
        adv, ret = gae(self.rewards, self.values, next_values, self.terminated,
                       self.episode_end, gamma, lam)
        # into the preallocated tensors: made under inference_mode, adv and ret could not
        # enter an autograd graph, and a whole-rollout minibatch uses these very tensors
        self.advantages.copy_(adv)
        self.returns.copy_(ret)

    def minibatches(self, num_minibatches: int, generator: torch.Generator) -> Iterator[Batch]:
        if num_minibatches == 1 and self._whole is not None:
            yield self._whole  # the same object every epoch, for what depends on it alone
            return
        n = self.T * self.N
        size = n // num_minibatches
        flat = lambda x: x.reshape(n, *x.shape[2:])  # noqa: E731
        obs, lp, v = flat(self.obs), flat(self.log_probs), flat(self.values)
        adv, ret, mask = flat(self.advantages), flat(self.returns), flat(self.valid)
        acts = {k: flat(a) for k, a in self.actions.items()}
        am = {k: flat(m) for k, m in self.action_masks.items()}
        if num_minibatches == 1:  # the whole rollout: its order changes no mean, so no shuffle
            self._whole = Batch(obs, acts, lp, v, adv, ret, mask, am)
            yield self._whole
            return
        perm = torch.randperm(n, generator=generator).to(self.obs.device)
        # one gather per field per epoch; each minibatch is then a slice of it (a view)
        obs, lp, v, adv, ret, mask = (x[perm] for x in (obs, lp, v, adv, ret, mask))
        acts = {k: a[perm] for k, a in acts.items()}
        am = {k: m[perm] for k, m in am.items()}
        for start in range(0, n, size):
            i = slice(start, start + size)
            yield Batch(obs[i], {k: a[i] for k, a in acts.items()}, lp[i], v[i], adv[i],
                        ret[i], mask[i], {k: m[i] for k, m in am.items()})
