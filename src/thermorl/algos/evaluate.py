"""Running whole episodes on a vector env with a given policy function."""

from __future__ import annotations

from typing import Any, Callable

import gymnasium as gym
import numpy as np


def run_episodes(envs: gym.vector.VectorEnv, act: Callable[[Any, dict], Any],
                 episodes: int, seed: int | None = None,
                 on_new_episode: Callable[[np.ndarray], None] | None = None
                 ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Returns, lengths and outcomes of `episodes` episodes, split as evenly as possible across
    the envs so that short episodes do not crowd out long ones (which would bias the mean).
    Outcomes are the final `info["outcome"]` of envs that report one (a duel's win/loss/draw)."""
    n = envs.num_envs
    targets = np.array([(episodes + i) // n for i in range(n)])
    done_count = np.zeros(n, int)
    ret, length = np.zeros(n), np.zeros(n, int)
    returns: list[float] = []
    lengths: list[int] = []
    outcomes: list[str] = []
    obs, info = envs.reset(seed=seed)
    prev_end = np.zeros(n, bool)
    while (done_count < targets).any():
        obs, reward, term, trunc, info = envs.step(act(obs, info))
        real = ~prev_end  # next-step autoreset: the step after an end only resets
        ret += np.where(real, reward, 0.0)
        length += real
        end = (term | trunc) & real
        for i in np.flatnonzero(end):
            if done_count[i] < targets[i]:
                returns.append(float(ret[i]))
                lengths.append(int(length[i]))
                if "outcome" in info and info.get("_outcome", np.ones(n, bool))[i]:
                    outcomes.append(str(info["outcome"][i]))
                done_count[i] += 1
            ret[i], length[i] = 0.0, 0
        prev_end = term | trunc
        if on_new_episode is not None and (~real).any():
            on_new_episode(np.flatnonzero(~real))  # these envs were just reset
    return np.array(returns), np.array(lengths), outcomes
