"""Learned entropy (equal constraint: the actuator and the PI coefficient) still solves the task
while each head's entropy follows its target; tracking error is measured over the second half of
training."""

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
    assert err <= 0.05 * math.log(2), err
    assert algo.final_eval["mean_return"] >= 475, algo.final_eval
    # left alone the policy's entropy falls below the target (to 0.19 nats with a fixed zero
    # coefficient), so over the run the actuator adds entropy on balance. Measured per update:
    # 0.0075 and 0.0085 nats (seeds 1, 2), most of it in the second quarter; the last quarter
    # alone is near zero either way (0.003 and -0.0002), too close to call
    assert np.mean([r["actuator/action"] for r in algo.logger.history]) > 0.002


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
    assert err <= 0.05, err  # 5% of the head's 1-nat scale
    assert algo.final_eval["mean_return"] >= -250, algo.final_eval


def test_the_std_schedule_holds_on_an_ordinary_run():
    """The reproduction that the coefficient alone failed (issue 15): defaults, no preset, a
    std schedule 0.6 -> 0.3 over 100k steps. With `actuator: coef` the coefficient sat at its
    bound from the first update and the entropy was 0.76 nats off over the second half."""
    cfg = thermorl.make_config("Pendulum-v1", preset="none", seed=0, **{
        "entropy.mode": "learned", "entropy.constraint": "equal",
        "entropy.target": {"std": {"start": 0.6, "end": 0.3, "shape": "linear"}},
        "eval.freq": 0, "eval.episodes": 5})
    assert cfg.total_timesteps == 100_000 and cfg.entropy.actuator == "auto"
    algo = thermorl.PPO("Pendulum-v1", cfg).learn()
    h = algo.logger.history
    assert h[0]["entropy/action"] == pytest.approx(h[0]["target_entropy/action"], abs=1e-4)
    assert tracking_error(algo) <= 0.05, tracking_error(algo)
    worst = max(abs(r["entropy/action"] - r["target_entropy/action"]) for r in h)
    assert worst <= 0.15, worst
    assert not any(r["warn/entropy_unreachable/action"] for r in h)
