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


def test_pendulum_within_100k_steps():
    """PPO on Pendulum-v1 fails to swing up on an occasional seed, in any library (SB3's own
    run in benchmarks/ ends at -199 +/- 123 over its eval episodes), and which seed depends on
    float rounding: seeds 1-6 gave -569, -163, -222, -156, -160, -138 through the fused path
    and -143, -142, -183, -216, -150, -138 through autograd; after a rounding-level change to
    the fused path's advantage normalization, seeds 1-3 gave -204, -142, -162. So three seeds,
    and their median (two of the three) must reach -250."""
    returns = []
    for seed in (1, 2, 3):
        cfg = thermorl.make_config("Pendulum-v1", seed=seed,
                                   **{"eval.freq": 0, "eval.episodes": 20})
        assert cfg.total_timesteps <= 200_000
        algo = thermorl.PPO("Pendulum-v1", cfg).learn()
        returns.append(algo.final_eval["mean_return"])
        # the Gaussian head narrowed as it learned: entropy well below its start of 1.42 nats
        assert algo.logger.latest["entropy/action"] < 1.0
    assert sorted(returns)[1] >= -250, returns