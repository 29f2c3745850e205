"""The two-agent adapter: seats, next-step autoreset, the duels it reports, opponents, and the
Dogfight's scripted pilot flying a seat of the parallel env exactly as the single-agent env's
opponent does."""

import numpy as np
import pytest
import torch
from gymnasium import spaces

pytest.importorskip("pettingzoo")

from thermorl.envs.dogfight import DogfightEnv  # noqa: E402
from thermorl.envs.dogfight.parallel import DogfightParallelEnv  # noqa: E402
from thermorl.envs.spaces import ActionLayout  # noqa: E402
from thermorl.errors import EnvError  # noqa: E402
from thermorl.selfplay.adapter import (PolicyOpponent, TwoAgentVectorEnv,  # noqa: E402
                                       parallel_factory, two_agents)
from thermorl.selfplay.pool import SCRIPTED  # noqa: E402


class Race:
    """Two runners; each step an agent moves 1 (action 1) or 0; first to `goal` wins (+1, the
    other -1, no outcome info), both at once draw. Observation: own and other's position /
    goal, and the seat (0 or 1)."""

    possible_agents = ["a", "b"]

    def __init__(self, goal=3):
        self.goal, self.agents = goal, []
        self._obs, self._act = spaces.Box(0, 1, (3,), np.float32), spaces.Discrete(2)

    def observation_space(self, agent):
        return self._obs

    def action_space(self, agent):
        return self._act

    def _o(self):
        a, b = self.pos["a"] / self.goal, self.pos["b"] / self.goal
        return {"a": np.array([a, b, 0], np.float32), "b": np.array([b, a, 1], np.float32)}

    def reset(self, seed=None, options=None):
        self.agents, self.pos = ["a", "b"], {"a": 0, "b": 0}
        return self._o(), {"a": {"action_mask": np.array([True, True])},
                           "b": {"action_mask": np.array([False, True])}}  # b must run

    def step(self, actions):
        for k in ("a", "b"):
            self.pos[k] += int(actions[k])
        done = max(self.pos.values()) >= self.goal
        infos = {"a": {}, "b": {}}
        r = float(np.sign(self.pos["a"] - self.pos["b"])) if done else 0.0
        if done:
            self.agents = []
        return self._o(), {"a": r, "b": -r}, {"a": done, "b": done}, \
            {"a": False, "b": False}, infos


def always(action):
    return lambda obs, infos: [action] * len(obs)


def test_seats_alternate_per_episode_and_the_step_after_an_end_only_resets():
    env = TwoAgentVectorEnv(Race, 2)
    env.set_opponent("runner", always(1))
    obs, info = env.reset(seed=0)
    assert env.seat.tolist() == [0, 1]  # env 0: learner is "a", env 1: learner is "b"
    assert obs[:, 2].tolist() == [0, 1]
    assert info["action_mask"].tolist() == [[True, True], [False, True]]
    for _ in range(2):
        _, r, term, trunc, info = env.step(np.array([1, 1]))
        assert not term.any()
    _, r, term, trunc, info = env.step(np.array([0, 1]))  # env 0: learner stood still, lost
    assert term.tolist() == [True, True] and not trunc.any()
    assert list(info["outcome"]) == ["loss", "draw"]  # no outcome info: the higher return
    duels = env.take_duels()
    assert [(d.opponent, d.mixed) for d in duels] == [("runner", False)] * 2
    assert env.take_duels() == []
    obs, r, term, trunc, info = env.step(np.array([1, 1]))  # reset-only step
    assert env.seat.tolist() == [1, 0] and obs[:, 2].tolist() == [1, 0]
    assert r.tolist() == [0, 0] and not (term | trunc).any() and "outcome" not in info
    env.reset()  # without a seed the seats stay; with one they start over
    assert env.seat.tolist() == [1, 0]
    env.reset(seed=1)
    assert env.seat.tolist() == [0, 1]


def test_a_new_opponent_mid_episode_makes_the_duel_mixed():
    env = TwoAgentVectorEnv(Race, 1)
    env.set_opponent("x", always(1))
    env.reset(seed=0)
    env.step(np.array([1]))
    env.set_opponent("y", always(1))
    for _ in range(2):
        env.step(np.array([1]))
    (d,) = env.take_duels()
    assert d == ("x", "draw", True)
    env.step(np.array([1]))  # reset: the next duel starts with y
    env.set_opponent("y", always(0))  # the same name again: not a change
    for _ in range(3):
        env.step(np.array([1]))
    (d,) = env.take_duels()
    assert d == ("y", "win", False)


def test_a_duel_that_never_ends_is_cut_at_max_episode_steps_and_judged():
    envs = TwoAgentVectorEnv(lambda: Race(goal=10**9), 2, "race", max_episode_steps=5)
    envs.set_opponent("still", always(0))
    envs.reset(seed=0)
    for t in range(5):
        _, _, term, trunc, info = envs.step(np.array([1, 1]))
    assert not term.any() and trunc.all()
    assert list(info["outcome"]) == ["draw", "draw"]  # no reward yet: equal returns
    assert [d.outcome for d in envs.take_duels()] == ["draw", "draw"]
    _, _, term, trunc, _ = envs.step(np.array([1, 1]))  # the autoreset step
    assert not trunc.any() and envs._steps.tolist() == [0, 0]
    for t in range(4):
        _, _, _, trunc, _ = envs.step(np.array([1, 1]))
    assert not trunc.any()  # a new duel counts from its own start
    # without a cap the same duel goes on
    envs = TwoAgentVectorEnv(lambda: Race(goal=10**9), 1, "race")
    envs.set_opponent("still", always(0))
    envs.reset(seed=0)
    assert not any(envs.step(np.array([1]))[3].any() for _ in range(50))


def test_the_video_seat_env_cuts_a_duel_that_never_ends_too():
    from types import SimpleNamespace

    from thermorl.selfplay.duels import SeatEnv

    cfg = SimpleNamespace(env_id="race", eval=SimpleNamespace(max_episode_steps=4))
    env = SeatEnv(SimpleNamespace(parallel_factory=lambda: Race(goal=10**9), config=cfg),
                  ("still", always(0)))
    env.reset(seed=0)
    ends = [env.step(1)[2:4] for _ in range(4)]
    assert ends[:3] == [(False, False)] * 3 and ends[3] == (False, True)


def test_state_dict_round_trip_of_the_seats():
    env = TwoAgentVectorEnv(Race, 3)
    env.seat[:] = [1, 1, 0]
    other = TwoAgentVectorEnv(Race, 3)
    other.load_state_dict(env.state_dict())
    assert other.seat.tolist() == [1, 1, 0]


def test_envs_that_are_not_duels_with_shared_spaces_are_rejected():
    class Three(Race):
        possible_agents = ["a", "b", "c"]

    class Apart(Race):
        def action_space(self, agent):
            return spaces.Discrete(2 if agent == "a" else 3)

    with pytest.raises(EnvError, match="has 3 agents"):
        two_agents(Three())
    with pytest.raises(EnvError, match="different action spaces.*share spaces"):
        two_agents(Apart())
    with pytest.raises(EnvError, match="not a PettingZoo ParallelEnv"):
        two_agents(object())
    with pytest.raises(EnvError, match="no scripted opponent"):
        TwoAgentVectorEnv(Race, 1).set_opponent(SCRIPTED, SCRIPTED)
    with pytest.raises(EnvError, match="has none; accepted: thermorl/Dogfight-v0"):
        parallel_factory("CartPole-v1")
    with pytest.raises(EnvError, match="has no function 'nope'"):
        parallel_factory("thermorl.envs.dogfight.parallel:nope")


def test_the_scripted_pilot_flies_blue_exactly_as_the_single_agent_opponent():
    """Same seed, same red actions: the parallel env with the scripted pilot in blue gives red
    the single-agent env's observations, rewards and outcome, step for step."""
    single, duel = DogfightEnv(), DogfightParallelEnv()
    rng = np.random.default_rng(0)
    for seed in (3, 4):
        o1, _ = single.reset(seed=seed)
        o2, _ = duel.reset(seed=seed)
        pilot = duel.scripted_opponent("blue")
        assert np.array_equal(o1, o2["red"])
        blue_obs, blue_info, done, steps = o2["blue"], {}, False, 0
        while not done:
            act = {"maneuver": int(rng.integers(7)), "fire": int(rng.integers(2)),
                   "throttle": rng.uniform(-1, 1, (1,)).astype(np.float32)}
            o1, r1, t1, tr1, i1 = single.step(act)
            o2, r2, t2, tr2, i2 = duel.step({"red": act, "blue": pilot(blue_obs, blue_info)})
            blue_obs, blue_info = o2["blue"], i2["blue"]
            assert np.array_equal(o1, o2["red"]) and r1 == r2["red"]
            assert (t1, tr1) == (t2["red"], tr2["red"])
            done, steps = t1 or tr1, steps + 1
        assert i1["outcome"] == i2["red"]["outcome"] and steps > 10


def test_a_policy_opponent_acts_under_its_own_masks():
    from thermorl.config import PolicyConfig
    from thermorl.nets import ActorCritic

    layout = ActionLayout(spaces.Discrete(2))
    net = ActorCritic(3, layout.heads, PolicyConfig())
    opp = PolicyOpponent(net, spaces.Box(0, 1, (3,), np.float32), spaces.Discrete(2), layout,
                         None, torch.device("cpu"), torch.Generator().manual_seed(0))
    obs = [np.zeros(3, np.float32)] * 50
    acts = opp(obs, [{"action_mask": np.array([False, True])}] * 50)
    assert [int(a) for a in acts] == [1] * 50
    acts = opp(obs, [{}] * 50)  # no masks: both actions happen
    assert {int(a) for a in acts} == {0, 1}
