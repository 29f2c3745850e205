"""Learned entropy coefficients (equal constraint, PI controller) still solve the task while each
head's entropy follows its target; tracking error is measured over the second half of training."""

import math

import numpy as np
import pytest

import thermorl

pytestmark = pytest.mark.slow


def tracking_error(algo, head="action"):
    rows = algo.logger.history[len(algo.logger.history) // 2:]
    return float(np.mean([abs(r[f"entropy/{head}"] - r[f"target_entropy/{head}"]) for r in rows]))


@pytest.mark.parametrize("seed", [1, 2])
def test_cartpole_held_at_half_max_entropy_and_solved(seed):
    cfg = thermorl.make_config("CartPole-v1", seed=seed, **{
        "entropy.mode": "learned", "entropy.target": {"fraction": 0.5},
        "eval.freq": 0, "eval.episodes": 20})
    assert (cfg.entropy.constraint, cfg.entropy.controller) == ("equal", "pi")
    algo = thermorl.PPO("CartPole-v1", cfg).learn()
    assert algo.logger.history[-1]["target_entropy/action"] == pytest.approx(0.5 * math.log(2))
    err = tracking_error(algo)
    assert err <= 0.05 * math.log(2), err  # measured 0.009-0.013 nats
    assert algo.final_eval["mean_return"] >= 475, algo.final_eval
    # the policy's own entropy falls below the target late in training (0.19 nats with a fixed
    # zero coefficient), so holding it takes a positive coefficient on average there
    last = algo.logger.history[-len(algo.logger.history) // 4:]
    assert np.mean([r["alpha/action"] for r in last]) > 0


def test_pendulum_follows_a_std_schedule_and_learns():
    cfg = thermorl.make_config("Pendulum-v1", seed=1, **{
        "entropy.mode": "learned",
        "entropy.target": {"std": {"start": 0.8, "end": 0.3, "shape": "linear"}},
        "eval.freq": 0, "eval.episodes": 20})
    algo = thermorl.PPO("Pendulum-v1", cfg).learn()
    h = algo.logger.history
    # the target falls by log(0.8 / 0.3) = 0.98 nats over the run, and the entropy goes with it
    assert h[0]["target_entropy/action"] - h[-1]["target_entropy/action"] > 0.9
    assert h[len(h) // 2]["entropy/action"] - h[-1]["entropy/action"] > 0.4
    err = tracking_error(algo)
    assert err <= 0.05, err  # 5% of the head's 1-nat scale; measured 0.0009 (0.0005 white)
    assert algo.final_eval["mean_return"] >= -250, algo.final_eval
