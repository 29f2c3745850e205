"""`thermorl/Dogfight-v0`: a 2-D one-on-one gun duel with a hybrid action space.

`register_envs()` registers the single-agent env with gymnasium (idempotent). The two-agent
PettingZoo env is `thermorl.envs.dogfight.parallel.DogfightParallelEnv` (imports pettingzoo,
which this package otherwise does not need). See docs/dogfight.md.
"""

from __future__ import annotations

import gymnasium as gym

from .core import (MANEUVERS, N_MANEUVERS, OBS_DIM, OBS_NAMES, Aircraft, Duel, Params, Rewards)
from .env import DogfightEnv
from .opponent import PursuitOpponent
from .policies import evaluate, pursuit_policy, random_policy

ENV_ID = "thermorl/Dogfight-v0"


def register_envs() -> None:
    """Register `thermorl/Dogfight-v0` with gymnasium; calling it again does nothing. The env
    enforces its own episode limit (`max_steps`, default 500) and reports truncation itself, so
    no `TimeLimit` wrapper is added (`gym.make(ENV_ID, max_steps=...)` changes it)."""
    if ENV_ID in gym.registry:
        return
    gym.register(id=ENV_ID, entry_point="thermorl.envs.dogfight.env:DogfightEnv",
                 max_episode_steps=None)


__all__ = ["ENV_ID", "MANEUVERS", "N_MANEUVERS", "OBS_DIM", "OBS_NAMES", "Aircraft",
           "DogfightEnv", "Duel", "Params", "PursuitOpponent", "Rewards", "evaluate",
           "pursuit_policy", "random_policy", "register_envs"]
