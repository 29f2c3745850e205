"""Noise color decides a task that needs momentum: on thermorl/Momentum-v0, with the head's std
held on the same 0.6 -> 0.3 schedule by the PI controller, white noise never finds the goal and
pink noise solves it. Both runs are measured here, so the test fails if white noise ever starts
to succeed (the env would no longer prove anything) as well as if pink noise stops."""

import math

import numpy as np
import pytest

import thermorl

pytestmark = pytest.mark.slow

ENV = "thermorl/Momentum-v0"


def run(beta: float):
    cfg = thermorl.make_config(ENV, seed=1, **{"entropy.noise.beta": beta, "eval.freq": 0})
    assert cfg.total_timesteps == 100_000 and cfg.entropy.mode == "learned"
    return thermorl.PPO(ENV, cfg).learn()


def std_error(algo) -> float:
    """Mean |log std - log target std| over the second half: the exploration's size, held."""
    rows = algo.logger.history[len(algo.logger.history) // 2:]
    return float(np.mean([abs(r["entropy/action"] - r["target_entropy/action"]) for r in rows]))


def test_white_noise_fails_and_pink_noise_solves_the_momentum_task():
    white, pink = run(0.0), run(1.0)
    # the same exploration size for both: each head's entropy followed the same std schedule
    # (a 1-D Gaussian's entropy is log std + const, so the error is in log std)
    for algo in (white, pink):
        h = algo.logger.history
        assert h[-1]["target_entropy/action"] == pytest.approx(
            0.5 * math.log(2 * math.pi * math.e) + math.log(0.3), abs=0.02)
        assert std_error(algo) < 0.05, std_error(algo)
        assert not any(r["warn/entropy_unreachable/action"] for r in h)  # quiet on the preset
    # white learns to stand still (the goal pays 100, a full push costs ~7); pink reached 93.1,
    # 93.2, 93.6 (seeds 1-3) with the actuator holding the std in benchmarks/entropy_tracking.py
    assert white.final_eval["mean_return"] < 5, white.final_eval
    assert pink.final_eval["mean_return"] >= 80, pink.final_eval
