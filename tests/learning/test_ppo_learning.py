"""PPO learns: fixed seeds, the presets' budgets, thresholds from the PPO-core issue."""

import pytest

import thermorl

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cartpole_solved_within_100k_steps(seed):
    cfg = thermorl.make_config("CartPole-v1", seed=seed, total_timesteps=100_000,
                               **{"eval.freq": 0, "eval.episodes": 20})
    algo = thermorl.PPO("CartPole-v1", cfg).learn()
    assert algo.global_step <= 100_000 + cfg.ppo.num_envs * cfg.ppo.num_steps
    assert algo.final_eval["mean_return"] >= 475, algo.final_eval


@pytest.mark.parametrize("seed", [1, 2])
def test_pendulum_within_100k_steps(seed):
    cfg = thermorl.make_config("Pendulum-v1", seed=seed, **{"eval.freq": 0, "eval.episodes": 20})
    assert cfg.total_timesteps <= 200_000
    algo = thermorl.PPO("Pendulum-v1", cfg).learn()
    assert algo.final_eval["mean_return"] >= -250, algo.final_eval
    # the Gaussian head narrowed as it learned: entropy well below its start of 1.42 nats
    assert algo.logger.latest["entropy/action"] < 1.0
