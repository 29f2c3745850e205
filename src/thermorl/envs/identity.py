"""`thermorl/HybridIdentity-v0`: a one-step task that pays only when a discrete head and a
continuous head are both right, so a hybrid policy must learn both.

The observation shows a class k (one-hot over `n`) and a value x in [-1, 1]. The action is
`Dict(choice=Discrete(n), value=Box(-1, 1, (1,)))`; the reward is 1 - |value - x| when
choice == k and 0 otherwise. A random policy earns about 0.2 (n = 3); a perfect one earns 1.
With `mask_invalid=True` one wrong class per episode is masked out (through
`info["action_mask"]`), so masks can be tested on it too.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np


class HybridIdentityEnv(gym.Env):
    metadata = {"render_modes": []}

    def __init__(self, n: int = 3, mask_invalid: bool = False):
        self.n, self.mask_invalid = n, mask_invalid
        self.observation_space = gym.spaces.Box(-1.0, 1.0, (n + 1,), np.float32)
        self.action_space = gym.spaces.Dict({
            "choice": gym.spaces.Discrete(n),
            "value": gym.spaces.Box(-1.0, 1.0, (1,), np.float32)})
        self._k, self._x = 0, 0.0

    def _obs(self) -> np.ndarray:
        o = np.zeros(self.n + 1, np.float32)
        o[self._k], o[-1] = 1.0, self._x
        return o

    def _info(self) -> dict[str, Any]:
        if not self.mask_invalid:
            return {}
        mask = np.ones(self.n, bool)
        wrong = [i for i in range(self.n) if i != self._k]
        mask[wrong[int(self.np_random.integers(len(wrong)))]] = False
        return {"action_mask": {"choice": mask}}

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._k = int(self.np_random.integers(self.n))
        self._x = float(self.np_random.uniform(-1.0, 1.0))
        return self._obs(), self._info()

    def step(self, action: dict[str, Any]):
        right = int(action["choice"]) == self._k
        reward = (1.0 - abs(float(np.asarray(action["value"]).reshape(-1)[0]) - self._x)
                  if right else 0.0)
        return self._obs(), float(reward), True, False, {}
