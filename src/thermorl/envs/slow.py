"""CartPole whose every step also burns `step_cost` seconds of CPU, a stand-in for a simulator
or game engine whose step dominates a run: what the `async` runners (and, later, Ray's) are for.
It computes rather than sleeps, so running envs side by side only pays where there are cores
for them, as with a real simulator."""

from __future__ import annotations

import time

from gymnasium.envs.classic_control.cartpole import CartPoleEnv


class SlowCartPoleEnv(CartPoleEnv):
    def __init__(self, step_cost: float = 0.001, render_mode: str | None = None):
        if not step_cost >= 0:
            raise ValueError(f"step_cost must be >= 0 seconds, got {step_cost}")
        super().__init__(render_mode=render_mode)
        self.step_cost = float(step_cost)

    def step(self, action):
        end = time.perf_counter() + self.step_cost
        while time.perf_counter() < end:  # busy: a simulator's step holds its core
            pass
        return super().step(action)
