"""A preallocated replay buffer of transitions (s, a, r, s', terminated), ring-ordered.

`next_obs` is stored apart from the next transition's `obs`: with gymnasium's next-step
autoreset the step that ends an episode returns its real final observation, which a truncated
episode bootstraps from, and the step after it only resets the env. The caller passes `valid`
False for those reset-only steps and they are not stored. Discrete heads' action masks (and the
next state's, for the expectation in the target) are stored from the first time the env masks
a head; transitions before that had every action valid.

Observations whose every value is a byte (pixels of a uint8 image, one-hot discrete entries,
binary ones) are stored as bytes, a quarter of float32's memory, and given back as floats.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from ..envs.spaces import HeadSpec
from ..errors import ConfigError


@dataclass(frozen=True)
class ReplayBatch:
    obs: Tensor
    actions: dict[str, Tensor]
    rewards: Tensor
    next_obs: Tensor
    terminated: Tensor
    action_masks: dict[str, Tensor]
    next_action_masks: dict[str, Tensor]


def row_bytes(obs_dim: int, heads: Mapping[str, HeadSpec], obs_bytes: int = 4) -> int:
    """Bytes of one stored transition: obs and next obs (`obs_bytes` a value), actions, reward
    and terminal flag (masks, which only masked envs store, left out)."""
    action = sum(8 * (1 if s.kind == "categorical" else len(s.nvec)) if s.discrete else 4 * s.dim
                 for s in heads.values())
    return obs_bytes * 2 * obs_dim + action + 8


def memory_of(device: torch.device) -> int | None:
    """The device's total memory in bytes (None where it cannot be told)."""
    try:
        if device.type == "cuda":
            return int(torch.cuda.get_device_properties(device).total_memory)
        if device.type == "cpu":
            return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError, RuntimeError):
        pass
    return None


def check_fits(capacity: int, obs_dim: int, heads: Mapping[str, HeadSpec],
               device: torch.device, obs_dtype: torch.dtype = torch.float32) -> None:
    """A buffer that could never fill without running out of memory is a config error now,
    not an allocation failure (or the OS's OOM killer) hours into a run."""
    size = torch.empty((), dtype=obs_dtype).element_size()
    row, total = row_bytes(obs_dim, heads, size), memory_of(device)
    if total is None or capacity * row <= total:
        return
    kind = "bytes" if size == 1 else "floats"
    raise ConfigError(
        f"sac.buffer_size {capacity:,} transitions of {row:,} bytes each ({obs_dim:,} "
        f"observation {kind}, stored twice: obs and next obs) need {capacity * row / 1e9:.1f} "
        f"GB, more than the {total / 1e9:.1f} GB of memory {device.type} has; accepted: "
        f"sac.buffer_size up to {total // row:,} (less leaves room for the rest)")


class ReplayBuffer:
    """`obs_dtype` torch.uint8 stores observations as bytes (exact only for values 0-255)."""

    def __init__(self, capacity: int, obs_dim: int, heads: Mapping[str, HeadSpec],
                 device: torch.device, obs_dtype: torch.dtype = torch.float32):
        self.capacity, self.heads, self.device = capacity, dict(heads), device
        check_fits(capacity, obs_dim, heads, device, obs_dtype)

        # Uninitialized: only rows below `size` are ever read, and memory the OS has not
        # handed out yet costs nothing, so a 1M-row buffer's footprint grows as it fills.
        def z(*shape: int, dtype: torch.dtype = torch.float32) -> Tensor:
            return torch.empty((capacity, *shape), dtype=dtype, device=device)

        self.obs, self.next_obs = z(obs_dim, dtype=obs_dtype), z(obs_dim, dtype=obs_dtype)
        # Gaussian heads hold the squashed action in [-1, 1], what the critics take as input
        self.actions = {h: (z(dtype=torch.long) if s.kind == "categorical" else
                            z(len(s.nvec), dtype=torch.long) if s.discrete else z(s.dim))
                        for h, s in heads.items()}
        self.rewards, self.terminated = z(), z()
        self.action_masks: dict[str, Tensor] = {}
        self.next_action_masks: dict[str, Tensor] = {}
        self.pos = 0  # next row to write
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def _mask_store(self, store: dict[str, Tensor], name: str) -> Tensor:
        if name not in store:
            store[name] = torch.ones((self.capacity, self.heads[name].n_logits),
                                     dtype=torch.bool, device=self.device)
        return store[name]

    def add(self, obs: Tensor, actions: Mapping[str, Tensor], rewards: Tensor, next_obs: Tensor,
            terminated: Tensor, valid: Tensor, masks: Mapping[str, Tensor] | None = None,
            next_masks: Mapping[str, Tensor] | None = None) -> None:
        """One vector-env step: [N, ...] each; rows where `valid` is False are skipped."""
        keep = valid.nonzero().squeeze(-1)
        n = int(keep.numel())
        if n == 0:
            return
        rows = (self.pos + torch.arange(n, device=self.device)) % self.capacity
        self.obs[rows] = obs[keep].to(self.obs.dtype)
        self.next_obs[rows] = next_obs[keep].to(self.obs.dtype)
        for h, a in actions.items():
            self.actions[h][rows] = a[keep].to(self.actions[h].dtype)
        self.rewards[rows] = rewards[keep].float()
        self.terminated[rows] = terminated[keep].float()
        for store, given in ((self.action_masks, masks or {}),
                             (self.next_action_masks, next_masks or {})):
            for name in store.keys() | given.keys():
                m = self._mask_store(store, name)
                m[rows] = given[name][keep] if name in given else True
        self.pos = (self.pos + n) % self.capacity
        self.size = min(self.size + n, self.capacity)

    def sample(self, batch_size: int, generator: torch.Generator) -> ReplayBatch:
        """Uniform, with replacement (so a buffer smaller than the batch can be sampled)."""
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        idx = torch.randint(self.size, (batch_size,), generator=generator).to(self.device)
        return ReplayBatch(self.obs[idx].float(), {h: a[idx] for h, a in self.actions.items()},
                           self.rewards[idx], self.next_obs[idx].float(), self.terminated[idx],
                           {h: m[idx] for h, m in self.action_masks.items()},
                           {h: m[idx] for h, m in self.next_action_masks.items()})

    # -- checkpoints: only the filled rows, as tensors --------------------------------------
    def state_dict(self) -> dict[str, Any]:
        n = self.size
        return {"pos": self.pos, "size": n, "obs": self.obs[:n].cpu(),
                "next_obs": self.next_obs[:n].cpu(), "rewards": self.rewards[:n].cpu(),
                "terminated": self.terminated[:n].cpu(),
                "actions": {h: a[:n].cpu() for h, a in self.actions.items()},
                "action_masks": {h: m[:n].cpu() for h, m in self.action_masks.items()},
                "next_action_masks": {h: m[:n].cpu() for h, m in self.next_action_masks.items()}}

    def load_state_dict(self, st: Mapping[str, Any]) -> None:
        n = st["size"]
        if n > self.capacity:
            raise ValueError(f"saved replay buffer holds {n} transitions, more than this "
                             f"buffer's capacity {self.capacity}")
        self.pos, self.size = st["pos"] % self.capacity, n
        for name in ("obs", "next_obs", "rewards", "terminated"):
            getattr(self, name)[:n] = st[name].to(self.device)
        for h, a in st["actions"].items():
            self.actions[h][:n] = a.to(self.device)
        for store, key in ((self.action_masks, "action_masks"),
                           (self.next_action_masks, "next_action_masks")):
            for h, m in st[key].items():
                self._mask_store(store, h)[:n] = m.to(self.device)
