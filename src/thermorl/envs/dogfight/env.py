"""`DogfightEnv`: one aircraft (the agent) against a scripted pursuit opponent."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from .core import (N_MANEUVERS, OBS_DIM, Duel, Params, Rewards, action_mask, angular_advantage,
                   env_settings, judge, observe, step_reward)
from .opponent import PursuitOpponent


def action_space() -> spaces.Dict:
    return spaces.Dict({
        "maneuver": spaces.Discrete(N_MANEUVERS),
        "fire": spaces.Discrete(2),
        "throttle": spaces.Box(-1.0, 1.0, (1,), np.float32),
    })


def observation_space() -> spaces.Box:
    return spaces.Box(-1.0, 1.0, (OBS_DIM,), np.float32)


def parse_action(action: Any) -> tuple[int, bool, float]:
    """A Dict action -> (maneuver, fire, throttle clipped to [-1, 1]; NaN -> 0)."""
    m = int(action["maneuver"])
    if not 0 <= m < N_MANEUVERS:
        raise ValueError(f"maneuver {m} outside [0, {N_MANEUVERS})")
    th = action["throttle"]
    th = float(th[0]) if np.ndim(th) else float(th)
    if not th >= -1.0:  # also NaN
        th = -1.0 if th < -1.0 else 0.0
    elif th > 1.0:
        th = 1.0
    return m, bool(action["fire"]), th


class DogfightEnv(gym.Env):
    """A 2-D one-on-one gun duel on a wrap-around square arena against a scripted opponent.

    Action: `Dict(maneuver=Discrete(7), fire=Discrete(2), throttle=Box(-1, 1, (1,)))`.
    Observation: `Box(-1, 1, (17,), float32)`, relative geometry and status (see `core.OBS_NAMES`).
    `info["action_mask"]` = {"maneuver": all True, "fire": [True, gun ready]} in reset and step;
    pulling the trigger while masked does nothing. Terminated on a win, a loss, or a draw when
    both guns are empty; truncated after `max_steps` steps (outcome "draw").
    `info["outcome"]` ("win"/"loss"/"draw") is set on the last step only.

    Keyword arguments: `max_steps` (episode limit, default 500 = 50 s), `params`
    (`core.Params`), `rewards` (`core.Rewards`), `opponent` (a `PursuitOpponent` or a dict of its
    keyword arguments), `render_mode` ("rgb_array" or None), `render_size` (pixels).
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(self, render_mode: str | None = None, max_steps: int = 500,
                 params: Params | dict | None = None, rewards: Rewards | dict | None = None,
                 opponent: PursuitOpponent | dict | None = None, render_size: int = 400):
        self.params, self.rewards = env_settings(render_mode, self.metadata["render_modes"],
                                                 max_steps, params, rewards)
        self.render_mode = render_mode
        self.render_size = int(render_size)
        self.max_steps = int(max_steps)
        if opponent is None:
            opponent = PursuitOpponent()
        elif isinstance(opponent, dict):
            opponent = PursuitOpponent(**opponent)
        self.opponent = opponent
        self.action_space = action_space()
        self.observation_space = observation_space()
        self.duel = Duel(self.params)
        self._phi = 0.0
        self._done = True
        self._last_events = (False, False, False, False)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.duel.reset(self.np_random)
        self.opponent.reset()
        self._done = False
        self._last_events = (False, False, False, False)
        obs = observe(self.duel.a, self.duel.b, self.params, 0, self.max_steps)
        self._phi = self.rewards.shaping * angular_advantage(obs)
        return obs, {"action_mask": action_mask(self.duel.a)}

    def step(self, action):
        if self._done:
            raise RuntimeError("DogfightEnv.step called after the episode ended; call reset()")
        d, p, rng = self.duel, self.params, self.np_random
        act = parse_action(action)
        opp = self.opponent.act(d.b, d.a, p, rng)
        ev = d.step(act, opp, rng, 1.0, self.opponent.accuracy)
        self._last_events = ev
        scored, taken = int(ev[1]), int(ev[3])
        outcome = judge(d)
        terminated = outcome is not None
        truncated = not terminated and d.t >= self.max_steps
        obs = observe(d.a, d.b, p, d.t, self.max_steps)
        phi = self.rewards.shaping * angular_advantage(obs)
        reward = step_reward(self.rewards, scored, taken, outcome, self._phi, phi)
        self._phi = phi
        info = {"action_mask": action_mask(d.a), "hits_scored": scored, "hits_taken": taken}
        if terminated or truncated:
            self._done = True
            info["outcome"] = outcome if terminated else "draw"
            info["health"] = d.a.health
            info["opp_health"] = d.b.health
            info["steps"] = d.t
        return obs, float(reward), terminated, truncated, info

    def render(self):
        if self.render_mode != "rgb_array":
            return None
        from .render import render_duel

        return render_duel(self.duel, size=self.render_size, events=self._last_events)

    def close(self):
        pass
