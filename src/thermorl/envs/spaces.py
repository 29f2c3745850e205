"""From gymnasium spaces to named action heads, and back to the actions an env accepts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import gymnasium as gym
import numpy as np

from ..errors import EnvError

SINGLE_HEAD = "action"


@dataclass(frozen=True)
class HeadSpec:
    """One action head: `categorical` with `n` choices (offset by `start`), or `gaussian` over
    `dim` dimensions with the env's bounds (actions are clipped to them only when sent)."""

    kind: str
    n: int = 0
    start: int = 0
    dim: int = 0
    low: np.ndarray | None = None
    high: np.ndarray | None = None
    shape: tuple[int, ...] = ()


def head_specs(space: gym.Space) -> dict[str, HeadSpec]:
    """A plain `Discrete` or `Box` space is one head named `action`."""
    if isinstance(space, gym.spaces.Discrete):
        return {SINGLE_HEAD: HeadSpec("categorical", n=int(space.n), start=int(space.start))}
    if isinstance(space, gym.spaces.Box) and np.issubdtype(space.dtype, np.floating):
        return {SINGLE_HEAD: HeadSpec("gaussian", dim=int(np.prod(space.shape)),
                                      low=space.low.reshape(-1).astype(np.float32),
                                      high=space.high.reshape(-1).astype(np.float32),
                                      shape=tuple(space.shape))}
    raise EnvError(f"action space {space} is not supported yet; accepted: Discrete, or Box "
                   f"with a float dtype")


def obs_dim(space: gym.Space) -> int:
    if isinstance(space, gym.spaces.Box):
        return int(np.prod(space.shape))
    if isinstance(space, gym.spaces.Discrete):
        raise EnvError(f"observation space {space} is not supported yet; accepted: Box")
    raise EnvError(f"observation space {space} is not supported yet; accepted: Box")


def to_env(actions: Mapping[str, np.ndarray], specs: Mapping[str, HeadSpec]) -> np.ndarray:
    """Batched head actions -> the batched action the vector env takes.

    Gaussian samples are clipped to the env's bounds here and only here; the unclipped sample is
    what the buffer stores and what the log-prob is taken of."""
    (name, spec), = specs.items()
    a = actions[name]
    if spec.kind == "categorical":
        return a.astype(np.int64) + spec.start
    a = np.clip(a, spec.low, spec.high)
    return a.reshape((a.shape[0],) + spec.shape)
