"""SAC learns: Pendulum-v1 (tanh Gaussian), CartPole-v1 (discrete SAC) and the hybrid identity
task (a discrete and a continuous head, one temperature each), with fixed seeds."""

import pytest

import thermorl

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("seed", [1, 2])
def test_pendulum_within_20k_steps(seed):
    # the sac/Pendulum-v1 preset: SB3's SAC defaults with lr 1e-3, 20k steps
    cfg = thermorl.make_config("Pendulum-v1", algo="sac", seed=seed, **{
        "eval.freq": 0, "eval.episodes": 10, "log.progress": "off"})
    assert cfg.total_timesteps == 20_000
    algo = thermorl.SAC("Pendulum-v1", cfg).learn()
    assert algo.final_eval["mean_return"] >= -200, algo.final_eval
    # the learned temperature held the entropy near its floor of -dim (in [-1, 1] units)
    assert abs(algo.logger.latest["entropy_error/action"]) < 0.5, algo.logger.latest


def test_cartpole_discrete_sac_within_100k_steps():
    cfg = thermorl.make_config("CartPole-v1", algo="sac", seed=1, **{
        "eval.freq": 0, "eval.episodes": 10, "log.progress": "off"})
    assert cfg.total_timesteps == 100_000
    algo = thermorl.SAC("CartPole-v1", cfg).learn()
    assert algo.final_eval["mean_return"] >= 400, algo.final_eval


def test_hybrid_identity_one_temperature_per_head():
    env = "thermorl/HybridIdentity-v0"
    cfg = thermorl.make_config(env, algo="sac", seed=1, total_timesteps=6_000, **{
        "policy.hidden_sizes": [64, 64], "sac.learning_rate": 1e-3, "entropy.lr": 1e-3,
        "sac.learning_starts": 500, "eval.freq": 0, "eval.episodes": 200,
        "log.progress": "off"})
    algo = thermorl.SAC(env, cfg).learn()
    assert algo.final_eval["mean_return"] >= 0.85, algo.final_eval
    last = algo.logger.latest
    assert last["alpha/choice"] != last["alpha/value"]  # each head its own temperature
