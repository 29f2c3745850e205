"""An evaluation episode of an env without a time limit of its own is cut at
`eval.max_episode_steps`: a policy that never finishes one (CliffWalking's deterministic policy
walking into a wall for ever) cannot hang a run. Envs with their own limit keep it."""

import gymnasium as gym
import pytest

import thermorl
from thermorl.envs import make_vector_env
from envs_for_tests import SignEnv

QUIET = {"log.progress": "off", "log.tensorboard": False, "eval.freq": 0,
         "ppo.num_envs": 2, "ppo.num_steps": 32, "ppo.num_minibatches": 2}


def never_ends():
    return SignEnv(length=10**9)


@pytest.mark.parametrize("backend", ["local", "async"])
def test_a_factory_env_without_a_limit_is_cut(backend):
    cfg = thermorl.make_config("never", total_timesteps=64, **QUIET,
                               **{"eval.max_episode_steps": 25, "runners.backend": backend})
    with thermorl.PPO(never_ends, cfg) as algo:
        ev = algo.evaluate(3)
    assert ev["episodes"] == 3 and ev["mean_length"] == 25


def test_an_env_id_without_a_limit_is_cut_and_one_with_a_limit_keeps_it():
    cfg = thermorl.make_config("CliffWalking-v1", total_timesteps=64, **QUIET,
                               **{"eval.max_episode_steps": 40})
    with thermorl.PPO("CliffWalking-v1", cfg) as algo:
        ev = algo.evaluate(2)
    assert ev["episodes"] == 2 and ev["mean_length"] <= 40
    # FrozenLake's own limit is 100 steps: it stays 100, not the 3 asked for envs without one
    envs = make_vector_env("FrozenLake-v1", 1, max_episode_steps=3)
    try:
        assert limit_of(envs.envs[0]) == 100
    finally:
        envs.close()
    envs = make_vector_env("CliffWalking-v1", 1, max_episode_steps=3)
    try:
        assert limit_of(envs.envs[0]) == 3
    finally:
        envs.close()


def limit_of(env):
    while not isinstance(env, gym.wrappers.TimeLimit):
        env = env.env
    return env._max_episode_steps
