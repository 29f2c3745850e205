"""thermorl/Momentum-v0 rewards sustained pushes: full force reaches the goal, white noise of any
size does not, colored noise of the same size does (zero-mean policies, no learning)."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import thermorl  # noqa: F401  (registers the env)
from thermorl.entropy.noise import ColoredNoise


def test_env_passes_gymnasium_checks():
    check_env(gym.make("thermorl/Momentum-v0").unwrapped)


def test_full_push_reaches_the_goal_in_about_70_steps():
    env = gym.make("thermorl/Momentum-v0")
    env.reset(seed=0)
    total, steps, term = 0.0, 0, False
    while not term:
        _, r, term, trunc, _ = env.step(np.ones(1, np.float32))
        total, steps = total + r, steps + 1
        assert not trunc
    assert 60 <= steps <= 80 and total == pytest.approx(100 - 0.1 * steps)


def test_the_wall_stops_the_cart_and_time_runs_out():
    env = gym.make("thermorl/Momentum-v0")
    obs, _ = env.reset(seed=0)
    for _ in range(200):
        obs, _, term, trunc, _ = env.step(-np.ones(1, np.float32))
        assert obs[0] >= -1.0 and not term
    assert trunc and obs[0] == -1.0 and obs[1] == 0.0


def success_rate(beta: float, std: float, episodes: int = 300) -> float:
    env = gym.make("thermorl/Momentum-v0")
    noise = ColoredNoise(beta, 1, 1, seed=0)
    wins = 0
    for ep in range(episodes):
        env.reset(seed=ep)
        noise.restart([0])
        term = trunc = False
        while not (term or trunc):
            _, _, term, trunc, _ = env.step(std * noise.step()[0])
        wins += term
    return wins / episodes


@pytest.mark.parametrize("std", [0.6, 1.0])
def test_white_noise_never_reaches_the_goal(std):
    assert success_rate(0.0, std, episodes=150) == 0.0


def test_pink_and_red_noise_of_the_same_std_do():
    assert success_rate(1.0, 0.6) > 0.05  # measured 0.14 over 2000 episodes
    assert success_rate(2.0, 0.6) > 0.15  # 0.32
