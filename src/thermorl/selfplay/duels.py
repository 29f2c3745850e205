"""Duels between a trained pilot and an opponent, for `thermorl eval RUN --opponent ...`."""

from __future__ import annotations

from typing import Any

import torch

from ..collect.evaluation import Evaluator
from ..errors import ThermorlError
from .adapter import PolicyOpponent, TwoAgentVectorEnv, parallel_factory
from .pool import LATEST, SCRIPTED


def play_duels(pilot: Any, opponent: str | Any, episodes: int, deterministic: bool,
               seed: int) -> dict[str, Any]:
    """`episodes` duels of `pilot` (an algorithm) in the two-agent version of its env against
    `opponent`: "scripted" (the env's scripted pilot), "latest" (the pilot's own weights) or
    another algorithm (a loaded run whose spaces match). The seats alternate as in training;
    a network opponent acts as the pilot does (its mode if `deterministic`, else sampling from
    a generator seeded with `seed`). Returns the counts of win/draw/loss from the pilot's side,
    the win rate, and the opponent's name."""
    factory = getattr(pilot, "parallel_factory", None) or parallel_factory(
        pilot.env_source, pilot.config.env_kwargs)
    if opponent == SCRIPTED:
        name, opp = SCRIPTED, SCRIPTED
    else:
        other = pilot if opponent == LATEST else opponent
        if getattr(other, "recurrent", False):
            raise ThermorlError("a recurrent policy cannot be a self-play opponent yet")
        if (other.obs_space != pilot.obs_space or other.action_space != pilot.action_space):
            raise ThermorlError(f"the opponent's spaces ({other.obs_space}, {other.action_space}) "
                                f"are not the pilot's ({pilot.obs_space}, "
                                f"{pilot.action_space}): it was trained on another env")
        name = LATEST if opponent == LATEST else "opponent"
        gen = torch.Generator(other.device).manual_seed(seed + 1)
        opp = PolicyOpponent(other.policy, other.obs_space, other.action_space,
                             other.action_layout, other.obs_norm, other.device, gen,
                             deterministic)

    def make(n: int) -> TwoAgentVectorEnv:
        envs = TwoAgentVectorEnv(factory, n, pilot.config.env_id)
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
