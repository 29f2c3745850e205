"""`thermorl/Momentum-v0`: a heavy cart on a track that pays only at the far end, so reaching
the reward takes sustained pushes in one direction.

The cart starts near x = 0 at rest; the goal is x >= 1, and a wall at x = -1 stops it. The action
is a force in [-1, 1]; velocity follows `v <- (1 - drag) v + power * a`, so a constant push
reaches a top speed of `power / drag` (0.02 per step by default: about 70 steps of full force
from the start to the goal). Reaching the goal pays +100 and ends the episode; every step costs
`0.1 a^2`; an episode is cut after 200 steps. Observation: (x, v / top speed).

Why white noise fails here: drag forgets a push within about 1 / drag = 20 steps, so
independent pushes average out and the cart wanders like a random walk, whose spread after 200
steps is about sqrt(200) * sigma * top speed: 0.17 for sigma = 0.6, far short of the goal.
Measured with a zero-mean policy over 2000 episodes: white noise (beta 0) reaches the goal in none
of them at std 0.3, 0.6 or 1.0; pink noise (beta 1) in 1.5% at std 0.3 and 14% at std 0.6, red
(beta 2) in 14% and 32%.
Without a single success there is no gradient toward the goal, and the action cost pulls the mean
to zero: however much entropy a white-noise policy keeps, it learns to stand still (return ~0).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np


class MomentumEnv(gym.Env):
    metadata = {"render_modes": []}

    def __init__(self, drag: float = 0.05, power: float = 0.001, goal_reward: float = 100.0,
                 action_cost: float = 0.1):
        if not 0.0 < drag < 1.0:
            raise ValueError(f"drag must be in (0, 1), got {drag}")
        if power <= 0.0:
            raise ValueError(f"power must be > 0, got {power}")
        self.drag, self.power = drag, power
        self.goal_reward, self.action_cost = goal_reward, action_cost
        self.top_speed = power / drag
        # |v| never exceeds the top speed, so both entries lie in [-1, 1]
        self.observation_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
        self._x, self._v = 0.0, 0.0

    def _obs(self) -> np.ndarray:
        obs = np.array([self._x, self._v / self.top_speed], np.float32)
        return np.clip(obs, -1.0, 1.0)  # x may pass 1 on the final step

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._x = float(self.np_random.uniform(-0.1, 0.1))
        self._v = 0.0
        return self._obs(), {}

    def step(self, action: np.ndarray):
        a = float(np.clip(np.asarray(action, np.float64).reshape(-1)[0], -1.0, 1.0))
        self._v = (1.0 - self.drag) * self._v + self.power * a
        self._x += self._v
        if self._x <= -1.0:  # the wall stops the cart
            self._x, self._v = -1.0, max(self._v, 0.0)
        reached = self._x >= 1.0
        reward = (self.goal_reward if reached else 0.0) - self.action_cost * a * a
        return self._obs(), float(reward), reached, False, {}
