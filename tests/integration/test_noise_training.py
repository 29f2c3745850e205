"""Colored noise wired into PPO: actions move smoothly in time, the noise restarts with each
episode, survives checkpoints, and deterministic evaluation ignores it."""

import numpy as np
import pytest

import thermorl
from thermorl.errors import ConfigError

ENV = "Pendulum-v1"


def make(beta, **extra):
    return thermorl.make_config(ENV, **{
        "entropy.noise": {"beta": beta}, "total_timesteps": 512, "ppo.num_envs": 2,
        "ppo.num_steps": 256, "ppo.num_minibatches": 2, "ppo.update_epochs": 1,
        "eval.episodes": 2, "log.progress": "off", **extra})


def lag1(actions):
    """Lag-1 autocorrelation of [T, N, 1] actions, per env, averaged."""
    a = actions[..., 0]
    a = (a - a.mean(0)) / a.std(0)
    return float(np.mean(a[1:] * a[:-1]))


@pytest.mark.parametrize("beta,low,high", [(0.0, -0.15, 0.15), (2.0, 0.8, 1.0)])
def test_rollout_actions_carry_the_noise_color(beta, low, high):
    algo = thermorl.PPO(ENV, make(beta))
    algo.collector.reset(seed=0)
    algo._collect()  # fresh policy: mean ~ 0 (gain 0.01), std 1, so actions ~ the noise
    assert low < lag1(algo.buffer.actions["action"].numpy()) < high


def test_noise_restarts_at_episode_starts_and_round_trips(tmp_path):
    algo = thermorl.PPO(ENV, make(1.0), run_dir=tmp_path / "r")
    algo.learn()  # Pendulum episodes are 200 steps: 512 steps per env cross two resets
    n = algo.noise["action"]
    assert (n.pos < 200).all()  # restarted since the last episode began, never mid-chunk
    again = thermorl.PPO.load(tmp_path / "r")
    m = again.noise["action"]
    assert np.array_equal(m.pos, n.pos) and np.array_equal(m.buf, n.buf)
    assert np.array_equal(m.step(), n.step())


def test_deterministic_eval_ignores_noise_stochastic_uses_it(tmp_path):
    algo = thermorl.PPO(ENV, make(1.0), run_dir=tmp_path / "r").learn()
    white = thermorl.PPO.load(tmp_path / "r", entropy={"noise": {"beta": 0.0}})
    assert algo.evaluate(2, deterministic=True) == white.evaluate(2, deterministic=True)
    assert algo.evaluate(2, deterministic=False) != white.evaluate(2, deterministic=False)


def test_noise_on_a_discrete_head_is_an_error():
    env = "thermorl/HybridIdentity-v0"
    with pytest.raises(ConfigError, match="head 'choice' is discrete; colored noise is for "
                                          "Gaussian heads"):
        thermorl.PPO(env, thermorl.make_config(env, **{
            "entropy.heads": {"choice": {"noise": {"beta": 1.0}}}}))
    # the section-wide default applies to Gaussian heads only
    algo = thermorl.PPO(env, thermorl.make_config(env, **{"entropy.noise": {"beta": 1.0}}))
    assert set(algo.noise) == {"value"}


def sac_config(beta, **extra):
    return thermorl.make_config(ENV, algo="sac", **{
        "entropy.noise": {"beta": beta}, "total_timesteps": 300, "sac.num_envs": 2,
        "sac.learning_starts": 0, "sac.batch_size": 32, "policy.hidden_sizes": [32, 32],
        "eval.episodes": 2, "log.progress": "off", **extra})


@pytest.mark.parametrize("beta,low,high", [(0.0, -0.15, 0.15), (2.0, 0.8, 1.0)])
def test_sac_rollout_actions_carry_the_noise_color(beta, low, high):
    algo = thermorl.SAC(ENV, sac_config(beta))
    algo.collector.reset(seed=0)
    algo._collect(200)  # one whole episode per env, no resets: rows alternate env 0, env 1
    # fresh policy: mean ~ 0, std 1, so the stored tanh(u) follows the noise
    actions = algo.buffer.actions["action"][:400].numpy().reshape(200, 2, 1)
    assert low < lag1(actions) < high


def test_sac_noise_restarts_round_trips_and_deterministic_eval_ignores_it(tmp_path):
    algo = thermorl.SAC(ENV, sac_config(1.0, total_timesteps=500), run_dir=tmp_path / "r")
    algo.learn()  # 250 steps per env cross one reset
    n = algo.noise["action"]
    assert (n.pos < 200).all()
    again = thermorl.SAC.load(tmp_path / "r")
    m = again.noise["action"]
    assert np.array_equal(m.pos, n.pos) and np.array_equal(m.buf, n.buf)
    white = thermorl.SAC.load(tmp_path / "r", entropy={**again.config.entropy.__dict__,
                                                       "noise": {"beta": 0.0}})
    assert algo.evaluate(2, deterministic=True) == white.evaluate(2, deterministic=True)
    assert algo.evaluate(2, deterministic=False) != white.evaluate(2, deterministic=False)
