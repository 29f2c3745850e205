"""Reference policies for the single-agent dogfight, acting on the observation and action mask
only: a uniformly random one (that respects the fire mask) and a scripted pursuit. They are the
baselines the difficulty is tuned against; `evaluate` plays a batch of duels."""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from .core import TURN_FRACTION

Policy = Callable[[np.ndarray, dict], dict]


def random_policy(rng: np.random.Generator, n_maneuvers: int = len(TURN_FRACTION)) -> Policy:
    """Uniform maneuver and throttle; fire with probability 1/2 when the mask allows it."""

    def act(obs: np.ndarray, mask: dict) -> dict:
        allowed = bool(mask["fire"][1])
        return {"maneuver": int(rng.integers(n_maneuvers)),
                "fire": int(allowed and rng.random() < 0.5),
                "throttle": rng.uniform(-1.0, 1.0, size=(1,)).astype(np.float32)}

    return act


def pursuit_policy(obs: np.ndarray, mask: dict, gain_deg: float = 15.0) -> dict:
    """Pure pursuit from the observation: turn toward the opponent's bearing (breaks for large
    errors), slow down while the opponent is far off the nose (a slower aircraft turns tighter),
    speed up when it is ahead and far, fire whenever it is in the gun cone."""
    err = math.atan2(float(obs[0]), float(obs[1]))
    u = err / math.radians(gain_deg)
    m = min(range(len(TURN_FRACTION)), key=lambda i: abs(TURN_FRACTION[i] - u))
    if obs[1] < 0.7:
        throttle = -1.0
    elif obs[2] > 0.3:
        throttle = 1.0
    else:
        throttle = 0.0
    fire = int(bool(mask["fire"][1]) and obs[14] > 0.5)
    return {"maneuver": m, "fire": fire, "throttle": np.array([throttle], dtype=np.float32)}


def evaluate(policy: Policy, n_duels: int, seed: int = 0, **env_kwargs) -> dict:
    """Play `n_duels` duels against the scripted opponent, seeds `seed .. seed + n_duels - 1`;
    returns counts of outcomes, the win rate, and the mean return and length."""
    from .env import DogfightEnv

    env = DogfightEnv(**env_kwargs)
    counts = {"win": 0, "loss": 0, "draw": 0}
    total_return = 0.0
    total_len = 0
    for i in range(n_duels):
        obs, info = env.reset(seed=seed + i)
        done = False
        while not done:
            obs, r, term, trunc, info = env.step(policy(obs, info["action_mask"]))
            total_return += r
            total_len += 1
            done = term or trunc
        counts[info["outcome"]] += 1
    env.close()
    return {**counts, "win_rate": counts["win"] / n_duels,
            "mean_return": total_return / n_duels, "mean_length": total_len / n_duels}
