"""A tiny two-agent zero-sum game for the self-play tests: rock-paper-scissors over `rounds`
rounds. Each agent sees both last throws (one-hot) and the fraction of rounds played; a round
won is +1, lost -1; the match ends after `rounds` rounds, won by the higher score. With
`rounds` None the match never ends (what an evaluation must cut)."""

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv


class RPSMatch(ParallelEnv):
    metadata = {"name": "rps_match_v0"}

    def __init__(self, rounds: int | None = 5):
        self.rounds = rounds
        self.possible_agents = ["p0", "p1"]
        self.agents = []
        self._obs = spaces.Box(0.0, 1.0, (7,), np.float32)
        self._act = spaces.Discrete(3)

    def observation_space(self, agent):
        return self._obs

    def action_space(self, agent):
        return self._act

    def _observe(self, last):
        out = {}
        for me, other in (("p0", "p1"), ("p1", "p0")):
            o = np.zeros(7, np.float32)
            if last is not None:
                o[last[me]] = 1.0
                o[3 + last[other]] = 1.0
            o[6] = self.t / self.rounds if self.rounds else 0.0
            out[me] = o
        return out

    def reset(self, seed=None, options=None):
        self.agents = list(self.possible_agents)
        self.t, self.score = 0, 0  # p0's rounds won minus lost
        return self._observe(None), {a: {} for a in self.agents}

    def step(self, actions):
        a, b = int(actions["p0"]), int(actions["p1"])
        r = 0 if a == b else (1 if (a - b) % 3 == 1 else -1)  # paper beats rock, ...
        self.t += 1
        self.score += r
        done = self.rounds is not None and self.t >= self.rounds
        infos = {"p0": {}, "p1": {}}
        if done:
            o = "win" if self.score > 0 else "loss" if self.score < 0 else "draw"
            infos["p0"]["outcome"] = o
            infos["p1"]["outcome"] = {"win": "loss", "loss": "win", "draw": "draw"}[o]
            self.agents = []
        obs = self._observe({"p0": a, "p1": b})
        return (obs, {"p0": float(r), "p1": float(-r)}, {"p0": done, "p1": done},
                {"p0": False, "p1": False}, infos)


def make_match(rounds: int | None = 5):
    return RPSMatch(rounds)


def make_three_player():
    """Not a duel: for the validation test."""
    env = RPSMatch()
    env.possible_agents = ["p0", "p1", "p2"]
    return env
