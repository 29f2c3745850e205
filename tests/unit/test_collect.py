"""The collector against gymnasium's next-step autoreset, on a scripted env."""

import gymnasium as gym
import numpy as np
import pytest
import torch

import thermorl


class Countdown(gym.Env):
    """Observation = steps left; terminates after `length` steps, reward 1 per step."""

    observation_space = gym.spaces.Box(-100, 100, (1,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, length=3):
        self.length = length

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.array([self.length], np.float32), {}

    def step(self, action):
        self.t += 1
        return (np.array([self.length - self.t], np.float32), 1.0, self.t >= self.length, False,
                {})


def make(num_steps=8, length=3):
    cfg = thermorl.make_config("CartPole-v1", **{
        "preset": "none", "ppo.num_envs": 1, "ppo.num_steps": num_steps,
        "ppo.num_minibatches": 1, "log.progress": "off"})
    return thermorl.PPO(lambda: Countdown(length), cfg)


def test_step_after_episode_end_is_masked_and_final_obs_stored():
    algo = make()
    algo.collector.reset(seed=0)
    algo._collect()
    b = algo.buffer
    obs = b.obs[:, 0, 0].tolist()
    # 3 real steps (3, 2, 1), then the final obs 0 whose step only resets, then 3, 2, 1, 0
    assert obs == [3, 2, 1, 0, 3, 2, 1, 0]
    assert b.valid[:, 0].tolist() == [1, 1, 1, 0, 1, 1, 1, 0]
    assert b.terminated[:, 0].tolist() == [0, 0, 1, 0, 0, 0, 1, 0]
    assert b.rewards[:, 0].tolist() == [1, 1, 1, 0, 1, 1, 1, 0]
    assert list(algo.collector.recent_returns) == [3.0, 3.0] and list(algo.collector.recent_lengths) == [3, 3]
    # a terminated step's advantage uses no bootstrap: A = r - V(s)
    assert b.advantages[2, 0].item() == pytest.approx(1.0 - b.values[2, 0].item(), abs=1e-6)


def test_update_ignores_masked_steps():
    algo = make()
    algo.collector.reset(seed=0)
    algo._collect()
    b = algo.buffer
    # garbage in the reset-only steps must not change the update
    before = {k: v.clone() for k, v in algo.policy.state_dict().items()}
    opt_state = algo.learner.optimizer.state_dict()
    torch.manual_seed(0)
    algo.shuffle_gen.manual_seed(0)
    m1 = algo.learner.update(algo.buffer, 0.0)
    after1 = {k: v.clone() for k, v in algo.policy.state_dict().items()}
    algo.policy.load_state_dict(before)
    algo.learner.optimizer.load_state_dict(opt_state)
    with torch.inference_mode():  # the buffer's targets are made in inference mode
        for x in (b.advantages, b.returns, b.log_probs):
            x[b.valid == 0] = 1e6
    algo.shuffle_gen.manual_seed(0)
    m2 = algo.learner.update(algo.buffer, 0.0)
    for k in after1:
        assert torch.allclose(after1[k], algo.policy.state_dict()[k]), k
    assert m1["loss/policy"] == pytest.approx(m2["loss/policy"])
