"""Target entropies in units people understand, converted to nats and checked.

- `{nats: V}`: V nats for the whole head (the sum over its dimensions).
- `{fraction: V}`: a discrete head's V * log n (n valid actions), 0 <= V <= 1.
- `{std: V}`: a Gaussian head whose every dimension has standard deviation V:
  d * (0.5 * log(2 pi e) + log V).
- `auto` (PPO): `{fraction: 0.5}` for a discrete head and `{std: 0.25 * half-width}` per
  dimension of a bounded Gaussian head (`{std: 0.5}` if unbounded); see docs/entropy.md for why.
- `auto` (SAC): SAC's heuristic -dim for a Gaussian head, in the squashed action's [-1, 1] units
  as in the SAC paper and Stable-Baselines3 (so `-dim + sum(log half-width)` nats of the action
  the env receives, which is what thermorl measures); `{fraction: 0.5}` for a discrete head (the
  often copied 0.98 * log n sits so close to the maximum that alpha has to grow without bound
  once the Q-values differ; see docs/sac.md).
Any V may be a schedule over training progress.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..distributions.gaussian import HALF_LOG_2PIE
from ..envs.spaces import HeadSpec
from ..errors import ConfigError
from . import schedules
from .schedules import Schedule

UNITS = ("nats", "fraction", "std")
AUTO_FRACTION = 0.5
AUTO_STD_OF_HALF_WIDTH = 0.25
SAC_AUTO_FRACTION = 0.5
SAC_AUTO_NATS_PER_DIM = -1.0  # in the tanh's [-1, 1] units


@dataclass(frozen=True)
class Target:
    unit: str
    value: Schedule


def parse(value: Any, path: str) -> Target:
    if value == "auto":
        return Target("auto", schedules.constant(0.0))
    if isinstance(value, Target):
        return value
    if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in UNITS:
        raise ConfigError(f"{path}: expected auto, {{nats: V}}, {{fraction: V}} or {{std: V}} "
                          f"(V a number or a schedule), got {value!r}")
    (unit, v), = value.items()
    return Target(unit, schedules.parse(v, f"{path}.{unit}"))


def to_config(t: Target) -> Any:
    return "auto" if t.unit == "auto" else {t.unit: schedules.to_config(t.value)}


def scale(spec: HeadSpec) -> float:
    """The nats that count as 'one unit' of error for a head: its maximum entropy (log n), or
    one nat per dimension. Controller gains act on errors divided by this, so one set of gains
    fits heads of any size."""
    return spec.max_entropy if spec.discrete else float(spec.dim)


def resolve_auto(t: Target, spec: HeadSpec, algo: str = "ppo") -> Target:
    if t.unit != "auto":
        return t
    if algo == "sac":
        if spec.discrete:
            return Target("fraction", schedules.constant(SAC_AUTO_FRACTION))
        nats = SAC_AUTO_NATS_PER_DIM * spec.dim
        if spec.bounded:  # from [-1, 1] to the env's box: + log(half-width) per dimension
            nats += float(np.sum(np.log((spec.high - spec.low) / 2)))
        return Target("nats", schedules.constant(nats))
    if spec.discrete:
        return Target("fraction", schedules.constant(AUTO_FRACTION))
    if not spec.bounded:
        return Target("std", schedules.constant(0.5))
    half = (spec.high - spec.low) / 2
    # one std for the head: the geometric mean keeps the head's total entropy the same as
    # per-dimension stds of 0.25 * each half-width would give
    std = float(np.exp(np.mean(np.log(AUTO_STD_OF_HALF_WIDTH * half))))
    return Target("std", schedules.constant(std))


def to_nats(unit: str, v: float, spec: HeadSpec, max_entropy: float | None = None) -> float:
    """`max_entropy`: the head's maximum under its action masks (mean log n_valid), if masked."""
    if unit == "nats":
        return v
    if unit == "fraction":
        return v * (max_entropy if max_entropy is not None else spec.max_entropy)
    return spec.dim * (HALF_LOG_2PIE + math.log(v))


def check(t: Target, spec: HeadSpec, head: str, path: str) -> None:
    """Impossible targets are errors naming the head, the value and the valid range."""
    kind = "discrete" if spec.discrete else "Gaussian"
    if t.unit == "fraction" and not spec.discrete:
        raise ConfigError(f"{path}: head {head!r} is Gaussian; a fraction target is for discrete "
                          f"heads; use {{std: V}} or {{nats: V}}")
    if t.unit == "std" and spec.discrete:
        raise ConfigError(f"{path}: head {head!r} is discrete; a std target is for Gaussian "
                          f"heads; use {{fraction: V}} or {{nats: V}}")
    for v in t.value.values:
        if t.unit == "fraction" and not 0 <= v <= 1:
            raise ConfigError(f"{path}: fraction {v} for head {head!r} is outside [0, 1]")
        if t.unit == "std" and not v > 0:
            raise ConfigError(f"{path}: std {v} for head {head!r} must be > 0")
        if t.unit == "nats" and spec.discrete:
            hi = spec.max_entropy
            if not 0 <= v <= hi:
                raise ConfigError(f"{path}: target {v} nats for {kind} head {head!r} is outside "
                                  f"its range [0, {hi:.4f}] (its maximum entropy)")
