"""Duels between a trained pilot and an opponent, for `thermorl eval RUN --opponent ...`: played
in batches for the counts (`play_duels`), or one at a time on an env that renders, for a video
(`SeatEnv`)."""

from __future__ import annotations

import inspect
from typing import Any

import gymnasium as gym
import torch

from ..collect.evaluation import Evaluator
from ..errors import EnvError, ThermorlError
from .adapter import PolicyOpponent, TwoAgentVectorEnv, judged, parallel_factory, two_agents
from .pool import LATEST, SCRIPTED


def make_opponent(pilot: Any, opponent: str | Any, deterministic: bool, seed: int
                  ) -> tuple[str, Any]:
    """(name, what plays the other seat) for `opponent`: "scripted" (the env's scripted pilot),
    "latest" (the pilot's own weights) or another algorithm (a loaded run whose spaces match).
    A network opponent acts as the pilot does: its mode if `deterministic`, else sampling from
    a generator seeded with `seed + 1`."""
    if opponent == SCRIPTED:
        return SCRIPTED, SCRIPTED
    other = pilot if opponent == LATEST else opponent
    if getattr(other, "recurrent", False):
        raise ThermorlError("a recurrent policy cannot be a self-play opponent yet")
    if other.obs_space != pilot.obs_space or other.action_space != pilot.action_space:
        raise ThermorlError(f"the opponent's spaces ({other.obs_space}, {other.action_space}) "
                            f"are not the pilot's ({pilot.obs_space}, {pilot.action_space}): "
                            f"it was trained on another env")
    gen = torch.Generator(other.device).manual_seed(seed + 1)
    return (LATEST if opponent == LATEST else "opponent",
            PolicyOpponent(other.policy, other.obs_space, other.action_space,
                           other.action_layout, other.obs_norm, other.device, gen,
                           deterministic))


def _factory(pilot: Any) -> Any:
    return getattr(pilot, "parallel_factory", None) or parallel_factory(
        pilot.env_source, pilot.config.env_kwargs)


def play_duels(pilot: Any, opponent: str | Any, episodes: int, deterministic: bool,
               seed: int) -> dict[str, Any]:
    """`episodes` duels of `pilot` (an algorithm) in the two-agent version of its env against
    `opponent` (see `make_opponent`). The seats alternate as in training. Returns the counts
    of win/draw/loss from the pilot's side, the win rate, and the mean return."""
    factory = _factory(pilot)
    name, opp = make_opponent(pilot, opponent, deterministic, seed)

    def make(n: int) -> TwoAgentVectorEnv:
        envs = TwoAgentVectorEnv(factory, n, pilot.config.env_id,
                                 pilot.config.eval.max_episode_steps)
        envs.set_opponent(name, opp)
        return envs

    ev = Evaluator(make, pilot.obs_layout, pilot.action_layout, pilot.device, pilot.obs_norm,
                   clock=lambda: pilot.global_step)
    try:
        res = ev.run(pilot._policy_act, pilot._initial_state, pilot._make_noise, episodes,
                     deterministic, seed)
    finally:
        ev.close()
    counts = {o: res.get("outcome_counts", {}).get(o, 0) for o in ("win", "draw", "loss")}
    return {**counts, "episodes": res["episodes"], "win_rate": counts["win"] / res["episodes"],
            "mean_return": res["mean_return"]}


class SeatEnv(gym.Env):
    """One two-agent env seen from one seat, the other played by `opponent` (as
    `make_opponent` gives it): what a single-agent env is to a recorder. The seat alternates
    from one episode to the next, starting in the first, as in `play_duels`. `info["outcome"]`
    is the seated pilot's ("win", "draw", "loss"); `render()` is the two-agent env's. A duel
    is cut after the pilot's `eval.max_episode_steps`, as in `play_duels`."""

    def __init__(self, pilot: Any, opponent: tuple[str, Any], render_mode: str | None = None):
        make = _factory(pilot)
        self.env = make(render_mode=render_mode) if render_mode and _accepts_render(make) \
            else make()
        self.agents = two_agents(self.env, pilot.config.env_id)
        self.opponent = opponent[1]  # (name, what plays)
        if self.opponent == SCRIPTED and not callable(getattr(self.env, "scripted_opponent",
                                                              None)):
            raise EnvError(f"self-play env {pilot.config.env_id!r} offers no scripted opponent "
                           f"(a scripted_opponent(agent) method)")
        self.observation_space = self.env.observation_space(self.agents[0])
        self.action_space = self.env.action_space(self.agents[0])
        self.metadata = dict(getattr(self.env, "metadata", {}))
        self.render_mode = getattr(self.env, "render_mode", None)
        self.episodes = 0
        self.seat = 0
        self.max_steps = pilot.config.eval.max_episode_steps
        self._t = 0

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        self.seat = self.episodes % 2
        self.episodes += 1
        obs, infos = self.env.reset(seed=seed)
        me, opp = self.agents[self.seat], self.agents[1 - self.seat]
        self._opp = (obs[opp], infos.get(opp, {}))
        self._script = (self.env.scripted_opponent(opp) if self.opponent == SCRIPTED else None)
        self._returns = [0.0, 0.0]
        self._t = 0
        return obs[me], dict(infos.get(me, {}))

    def step(self, action: Any):
        me, opp = self.agents[self.seat], self.agents[1 - self.seat]
        o, info = self._opp
        theirs = self._script(o, info) if self._script else self.opponent([o], [info])[0]
        obs, rew, terms, truncs, infos = self.env.step({me: action, opp: theirs})
        self._opp = (obs.get(opp), infos.get(opp, {}))
        r = float(rew.get(me, 0.0))
        self._returns[0] += r
        self._returns[1] += float(rew.get(opp, 0.0))
        info = dict(infos.get(me, {}))
        term, trunc = bool(terms.get(me, False)), bool(truncs.get(me, False))
        self._t += 1
        trunc = trunc or self._t >= self.max_steps
        if term or trunc or not self.env.agents:
            info["outcome"] = judged(info, *self._returns)
            trunc = trunc or not term  # an env whose agents left without a flag
        return obs[me], r, term, trunc, info

    def render(self):
        try:
            return self.env.render()
        except (AttributeError, NotImplementedError):  # PettingZoo's base class raises
            return None

    def close(self):
        self.env.close()


def _accepts_render(make: Any) -> bool:
    try:
        return "render_mode" in inspect.signature(make).parameters
    except (TypeError, ValueError):
        return False
