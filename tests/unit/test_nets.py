import math

import gymnasium as gym
import numpy as np
import pytest
import torch

from thermorl.config import PolicyConfig
from thermorl.envs.spaces import ActionLayout, head_specs
from thermorl.errors import EnvError
from thermorl.nets import ActorCritic
from thermorl.nets.heads import GaussianHead


def test_heads_from_plain_spaces():
    assert head_specs(gym.spaces.Discrete(3, start=1))["action"].n == 3
    s = head_specs(gym.spaces.Box(-1, 1, (2, 3)))["action"]
    assert s.kind == "gaussian" and s.dim == 6
    with pytest.raises(EnvError, match="Text.*accepted: Discrete"):
        head_specs(gym.spaces.Text(5))


def test_actions_clipped_only_for_env_and_offset_by_start():
    layout = ActionLayout(gym.spaces.Box(-1.0, 2.0, (2,)))
    raw = np.array([[-5.0, 0.5], [3.0, 9.0]], np.float32)
    sent = layout.to_env({"action": raw})
    assert sent.tolist() == [[-1.0, 0.5], [2.0, 2.0]]
    assert raw.tolist() == [[-5.0, 0.5], [3.0, 9.0]]  # the stored sample is untouched
    d = ActionLayout(gym.spaces.Discrete(3, start=-1))
    assert d.to_env({"action": np.array([0, 2])}).tolist() == [-1, 1]


def test_orthogonal_init_gains_and_initial_policy():
    torch.manual_seed(0)
    ac = ActorCritic(4, head_specs(gym.spaces.Discrete(5)), PolicyConfig())
    w = ac.heads["action"].logits.weight
    # orthogonal rows scaled by gain 0.01: W W^T = 0.01^2 I
    assert torch.allclose(w @ w.T, 1e-4 * torch.eye(5), atol=1e-7)
    hidden = ac.actor_body[0].weight
    assert torch.allclose(hidden.T @ hidden, 2.0 * torch.eye(4), atol=1e-5)
    v = ac.critic[-1].weight
    assert torch.allclose(v @ v.T, torch.eye(1), atol=1e-6)
    # near-uniform start: entropy close to log 5
    ent = ac.dist(torch.randn(10, 4)).entropy()["action"]
    assert torch.allclose(ent, torch.full((10,), math.log(5)), atol=1e-3)


def test_state_independent_log_std_projected_into_bounds():
    head = GaussianHead(8, 2, state_dependent=False, log_std_init=0.0, log_std_min=-1.0,
                        log_std_max=0.5)
    with torch.no_grad():
        head.log_std.copy_(torch.tensor([3.0, -4.0]))
    head.project_()
    assert head.log_std.tolist() == [0.5, -1.0]
    # at the bound the gradient still flows, so it can move back inside
    d = head(torch.zeros(1, 8))
    d.entropy().sum().backward()
    assert (head.log_std.grad != 0).all()


def test_state_dependent_log_std_bounded_and_starts_at_init():
    head = GaussianHead(8, 3, state_dependent=True, log_std_init=-0.5, log_std_min=-2.0,
                        log_std_max=1.0)
    d = head(torch.zeros(4, 8))
    assert torch.allclose(d.log_std, torch.full((4, 3), -0.5), atol=1e-5)
    with torch.no_grad():
        head.log_std_layer.weight.fill_(100.0)
    big = head(torch.ones(4, 8)).log_std
    assert (big <= 1.0).all() and (big >= -2.0).all()
