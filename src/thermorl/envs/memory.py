"""`thermorl/Memory-v0`: a cue shown once must be acted on after a delay.

At the first step the observation shows a cue k, one-hot over `n` (the last entry, the query
flag, is 0). Then `delay - 1` blank observations (all zeros) follow, and at step `delay` the
observation is the query: all zeros but the flag. The action taken at the query is judged:
reward 1 when it equals k, 0 otherwise, and the episode ends (`info["outcome"]` is "win" or
"loss"). Actions before the query do nothing. An episode is `delay + 1` steps.

A feed-forward policy cannot beat chance, whatever it learns: the query observation is the same
for every cue, so such a policy picks each action with the same probabilities pi(a | query)
whatever k was, and with k uniform its expected reward is sum_k (1/n) pi(k | query) = 1/n. A
policy with memory can earn 1 by carrying k through the blanks. With the defaults (n = 2,
delay = 4) chance is 0.5, and an episode is short enough for a small LSTM or GRU to learn in a
few thousand steps.
"""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np


class MemoryEnv(gym.Env):
    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}

    def __init__(self, n: int = 2, delay: int = 4):
        if not (isinstance(n, int) and n >= 2):
            raise ValueError(f"Memory-v0: n (the number of cues) must be an integer >= 2, got {n!r}")
        if not (isinstance(delay, int) and delay >= 1):
            raise ValueError(f"Memory-v0: delay must be an integer >= 1, got {delay!r}")
        self.n, self.delay = n, delay
        self.observation_space = gym.spaces.Box(0.0, 1.0, (n + 1,), np.float32)
        self.action_space = gym.spaces.Discrete(n)
        self._cue, self._t = 0, 0

    def _obs(self) -> np.ndarray:
        o = np.zeros(self.n + 1, np.float32)
        if self._t == 0:
            o[self._cue] = 1.0
        elif self._t == self.delay:
            o[-1] = 1.0
        return o

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._cue, self._t = int(self.np_random.integers(self.n)), 0
        return self._obs(), {}

    def step(self, action: Any):
        if self._t < self.delay:
            self._t += 1
            return self._obs(), 0.0, False, False, {}
        win = int(action) == self._cue
        return self._obs(), float(win), True, False, {"outcome": "win" if win else "loss"}
