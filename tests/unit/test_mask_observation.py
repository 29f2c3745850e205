"""MaskObservation hides exactly the entries asked for (Box indices, Dict keys), keeps the rest
as the inner env gives them, and says what it accepts when asked for the impossible."""

import gymnasium as gym
import numpy as np
import pytest

import thermorl
from thermorl.envs import MaskObservation, make_vector_env
from thermorl.errors import EnvError


class DictObs(gym.Env):
    observation_space = gym.spaces.Dict({"pos": gym.spaces.Box(-1, 1, (2,)),
                                         "vel": gym.spaces.Box(-1, 1, (2,))})
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        return {"pos": np.zeros(2, np.float32), "vel": np.ones(2, np.float32)}, {}

    def step(self, action):
        return self.reset()[0], 0.0, False, False, {}


@pytest.mark.parametrize("hide,kept", [([2], [0, 1]), (2, [0, 1]), ([-1], [0, 1]),
                                        ([0, 2], [1])])
def test_box_entries_are_removed_and_the_rest_kept(hide, kept):
    inner = gym.make("Pendulum-v1")
    env = MaskObservation(gym.make("Pendulum-v1"), hide)
    assert env.observation_space.shape == (len(kept),)
    np.testing.assert_array_equal(env.observation_space.high, inner.observation_space.high[kept])
    full, _ = inner.reset(seed=4)
    obs, _ = env.reset(seed=4)
    np.testing.assert_array_equal(obs, full[kept])
    a = np.array([0.5], np.float32)
    np.testing.assert_array_equal(env.step(a)[0], inner.step(a)[0][kept])
    assert env.observation_space.contains(obs)


def test_dict_entries_are_removed_by_key():
    env = MaskObservation(DictObs(), ["vel"])
    assert list(env.observation_space.spaces) == ["pos"]
    assert list(env.reset()[0]) == ["pos"]


@pytest.mark.parametrize("env,hide,match", [
    ("Pendulum-v1", [3], r"cannot hide 3 of a 3-entry Box observation; accepted: integers "
                         r"from -3 to 2"),
    ("Pendulum-v1", ["vel"], r"cannot hide 'vel'"),
    ("Pendulum-v1", [], r"hide is empty"),
    ("Pendulum-v1", [0, 1, 2], r"leaves no observation entry"),
    ("dict", ["speed"], r"no entry 'speed'; accepted: 'pos', 'vel'"),
    ("FrozenLake-v1", [0], r"not supported; accepted: a 1-D Box or a Dict"),
])
def test_impossible_requests_name_what_is_accepted(env, hide, match):
    base = DictObs() if env == "dict" else gym.make(env)
    with pytest.raises(EnvError, match=match):
        MaskObservation(base, hide)


def test_registered_id_takes_the_inner_env_and_its_kwargs():
    envs = make_vector_env("thermorl/MaskObservation-v0", 2,
                           {"env": "Pendulum-v1", "hide": [2], "g": 5.0})
    assert envs.single_observation_space.shape == (2,)
    assert envs.envs[0].unwrapped.g == 5.0
    obs, _ = envs.reset(seed=0)
    np.testing.assert_allclose(np.linalg.norm(obs, axis=1), 1.0, rtol=1e-5)  # cos, sin only
    with pytest.raises(EnvError, match="unknown env id 'Pendullum-v1'"):
        make_vector_env("thermorl/MaskObservation-v0", 1, {"env": "Pendullum-v1", "hide": [2]})


def test_a_recurrent_policy_trains_on_it():
    cfg = thermorl.make_config("thermorl/MaskObservation-v0", total_timesteps=256, **{
        "env_kwargs": {"env": "Pendulum-v1", "hide": [2]}, "ppo.recurrent": "gru",
        "ppo.num_envs": 2, "ppo.num_steps": 64, "ppo.num_minibatches": 1,
        "eval.episodes": 1, "log.progress": "off"})
    algo = thermorl.PPO(cfg.env_id, cfg).learn()
    assert algo.obs_dim == 2 and np.isfinite(algo.final_eval["mean_return"])
