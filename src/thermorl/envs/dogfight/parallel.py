"""`DogfightParallelEnv`: the dogfight as a two-agent PettingZoo `ParallelEnv` ("red" vs "blue").

Same dynamics (`core.Duel`, red = aircraft `a`, blue = `b`), the same Dict action space and
observation vector for each agent (each from its own point of view), the same reward function for
both (hits, win/loss, shaping), so the game is symmetric. Both agents end together: both
terminated on a decision (win/loss/draw), both truncated at `max_steps`; `infos[agent]` holds
`action_mask` every step and `outcome` (from that agent's side) on the last one.

This module imports pettingzoo; nothing else in thermorl does.
"""

from __future__ import annotations

import numpy as np
from gymnasium.utils import seeding
from pettingzoo import ParallelEnv

from .core import (Duel, Params, Rewards, action_mask, angular_advantage, flip, judge, observe,
                   env_settings, step_reward)
from .env import action_space, observation_space, parse_action
from .opponent import PursuitOpponent

_IDLE = (2, False, 0.0)  # straight, no fire, zero throttle: the action of an agent that sent none


class DogfightParallelEnv(ParallelEnv):
    metadata = {"name": "thermorl_dogfight_v0", "render_modes": ["rgb_array"], "render_fps": 10,
                "is_parallelizable": True}

    def __init__(self, render_mode: str | None = None, max_steps: int = 500,
                 params: Params | dict | None = None, rewards: Rewards | dict | None = None,
                 accuracy: tuple[float, float] = (1.0, 1.0), render_size: int = 400):
        self.params, self.rewards = env_settings(render_mode, self.metadata["render_modes"],
                                                 max_steps, params, rewards)
        self.render_mode = render_mode
        self.render_size = int(render_size)
        self.max_steps = int(max_steps)
        self.accuracy = (float(accuracy[0]), float(accuracy[1]))
        self.possible_agents = ["red", "blue"]
        self.agents: list[str] = []
        self._obs_space = observation_space()
        self._act_spaces = {a: action_space() for a in self.possible_agents}
        self.duel = Duel(self.params)
        self.np_random, _ = seeding.np_random(None)
        self._phi = {"red": 0.0, "blue": 0.0}
        self._last_events = (False, False, False, False)
        self._scripted_accuracy: dict[str, float] = {}  # seats the scripted pilot flew this step

    def scripted_opponent(self, agent: str, **kwargs):
        """The single-agent env's scripted opponent (`PursuitOpponent(**kwargs)`) flying `agent`
        for one episode: a function (observation, info) -> action that reads the duel's state
        and draws from the env's generator, as `DogfightEnv`'s opponent does, called before
        `step`. In a step where it acted, its rounds hit with its own accuracy (0.85 by
        default), as in `DogfightEnv`, instead of the seat's `accuracy`."""
        if agent not in self.possible_agents:
            raise ValueError(f"no agent {agent!r}; the agents are {self.possible_agents}")
        pilot = PursuitOpponent(**kwargs)

        def act(obs, info) -> dict:
            d = self.duel
            me, target = (d.a, d.b) if agent == "red" else (d.b, d.a)
            m, fire, throttle = pilot.act(me, target, self.params, self.np_random)
            self._scripted_accuracy[agent] = pilot.accuracy
            # float64: the single-agent env's opponent hands its throttle over unrounded
            return {"maneuver": m, "fire": int(fire), "throttle": np.array([throttle])}

        return act

    def observation_space(self, agent: str):
        return self._obs_space  # the same object every call, as PettingZoo requires

    def action_space(self, agent: str):
        return self._act_spaces[agent]

    def _observe(self) -> dict:
        d = self.duel
        return {"red": observe(d.a, d.b, self.params, d.t, self.max_steps),
                "blue": observe(d.b, d.a, self.params, d.t, self.max_steps)}

    def reset(self, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            self.np_random, _ = seeding.np_random(seed)
            for i, a in enumerate(self.possible_agents):
                self._act_spaces[a].seed(seed + 1 + i)
        self.duel.reset(self.np_random)
        self.agents = list(self.possible_agents)
        self._scripted_accuracy.clear()
        self._last_events = (False, False, False, False)
        obs = self._observe()
        sh = self.rewards.shaping
        self._phi = {a: sh * angular_advantage(obs[a]) for a in self.agents}
        infos = {"red": {"action_mask": action_mask(self.duel.a)},
                 "blue": {"action_mask": action_mask(self.duel.b)}}
        return obs, infos

    def step(self, actions: dict):
        if not self.agents:
            raise RuntimeError("DogfightParallelEnv.step called after the episode ended; "
                               "call reset()")
        d = self.duel
        act_r = parse_action(actions["red"]) if "red" in actions else _IDLE
        act_b = parse_action(actions["blue"]) if "blue" in actions else _IDLE
        acc = self._scripted_accuracy
        ev = d.step(act_r, act_b, self.np_random, acc.pop("red", self.accuracy[0]),
                    acc.pop("blue", self.accuracy[1]))
        self._last_events = ev
        out_r = judge(d)
        terminated = out_r is not None
        truncated = not terminated and d.t >= self.max_steps
        obs = self._observe()
        sh = self.rewards.shaping
        outcome = {"red": out_r, "blue": flip(out_r)}
        hits = {"red": (int(ev[1]), int(ev[3])), "blue": (int(ev[3]), int(ev[1]))}
        rewards, infos = {}, {}
        for a, ac in (("red", d.a), ("blue", d.b)):
            phi = sh * angular_advantage(obs[a])
            rewards[a] = float(step_reward(self.rewards, hits[a][0], hits[a][1], outcome[a],
                                           self._phi[a], phi))
            self._phi[a] = phi
            infos[a] = {"action_mask": action_mask(ac), "hits_scored": hits[a][0],
                        "hits_taken": hits[a][1]}
            if terminated or truncated:
                infos[a]["outcome"] = outcome[a] if terminated else "draw"
        terminations = {a: terminated for a in self.agents}
        truncations = {a: truncated for a in self.agents}
        if terminated or truncated:
            self.agents = []
        return obs, rewards, terminations, truncations, infos

    def render(self):
        if self.render_mode != "rgb_array":
            return None
        from .render import render_duel

        return render_duel(self.duel, size=self.render_size, events=self._last_events,
                           cones=(True, True))

    def close(self):
        pass
