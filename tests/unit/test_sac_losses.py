"""SAC's pure losses against numbers worked out by hand."""

import math

import pytest
import torch

from thermorl.losses import (actor_loss, critic_loss, entropy_bonus, joint_index,
                             joint_log_probs, soft_q_target, soft_value)


def t(*x):
    return torch.tensor(x, dtype=torch.float32)


def test_soft_q_target_bootstraps_unless_terminated():
    # y = r + gamma * (1 - terminated) * V(s'); a truncated transition has terminated = 0
    y = soft_q_target(t(1.0, 2.0, -1.0), t(0.0, 1.0, 0.0), t(10.0, 10.0, 4.0), gamma=0.9)
    assert y.tolist() == pytest.approx([1 + 9.0, 2.0, -1 + 3.6])


def test_soft_value_continuous_and_discrete():
    # continuous: K = 1, V = Q + alpha * (-log pi(a)) = 2 + 0.2 * 1.5
    bonus = entropy_bonus({"action": 0.2}, {"action": t(1.5)})
    assert soft_value(t(2.0)[:, None], bonus).item() == pytest.approx(2.3)
    # discrete: V = sum_a p(a) Q(a) + alpha * H = 0.25 * 1 + 0.75 * 3 + 0.5 * H(0.25, 0.75)
    p = t(0.25, 0.75)[None]
    h = -(0.25 * math.log(0.25) + 0.75 * math.log(0.75))
    v = soft_value(t(1.0, 3.0)[None], entropy_bonus({"a": 0.5}, {"a": t(h)}), p)
    assert v.item() == pytest.approx(2.5 + 0.5 * h)


def test_soft_q_target_from_twin_minimum_by_hand():
    # two samples, two actions; min over the twins, then expectation and entropy, then bootstrap
    q1, q2 = t(1.0, 4.0, 2.0, 0.0).view(2, 2), t(2.0, 3.0, 1.0, 5.0).view(2, 2)
    q_min = torch.minimum(q1, q2)  # [[1, 3], [1, 0]]
    probs = t(0.5, 0.5, 0.2, 0.8).view(2, 2)
    ent = -(probs * probs.log()).sum(-1)
    v = soft_value(q_min, entropy_bonus({"a": 0.1}, {"a": ent}), probs)
    y = soft_q_target(t(1.0, 1.0), t(0.0, 1.0), v, gamma=0.99)
    h0 = math.log(2)
    assert y.tolist() == pytest.approx([1 + 0.99 * (2.0 + 0.1 * h0), 1.0])


def test_critic_loss_is_half_the_sum_of_the_twins_mse():
    loss = critic_loss(t(1.0, 2.0), t(0.0, 0.0), t(1.0, 1.0))
    assert loss.item() == pytest.approx(0.5 * ((0 + 1) / 2 + (1 + 1) / 2))


def test_actor_loss_continuous_is_alpha_logp_minus_q():
    logp, q, alpha = t(-1.0, 0.5), t(2.0, -1.0), 0.2
    loss = actor_loss(q[:, None], entropy_bonus({"x": alpha}, {"x": -logp}))
    assert loss.item() == pytest.approx(((0.2 * -1.0 - 2.0) + (0.2 * 0.5 + 1.0)) / 2)


def test_actor_loss_discrete_is_the_exact_expectation_and_its_gradient():
    logits = torch.tensor([[0.0, math.log(3.0)]], requires_grad=True)  # p = (0.25, 0.75)
    logp = torch.log_softmax(logits, -1)
    p = logp.exp()
    q, alpha = t(1.0, 3.0)[None], 0.5
    loss = actor_loss(q, entropy_bonus({"a": alpha}, {"a": -(p * logp).sum(-1)}), p)
    by_hand = 0.25 * (0.5 * math.log(0.25) - 1) + 0.75 * (0.5 * math.log(0.75) - 3)
    assert loss.item() == pytest.approx(by_hand)
    loss.backward()
    # d/dz_1 of sum_a p_a (alpha log p_a - Q_a) = p_1 * (f_1 - sum_a p_a f_a), f = alpha log p - Q
    f = [0.5 * math.log(0.25) - 1, 0.5 * math.log(0.75) - 3]
    mean_f = 0.25 * f[0] + 0.75 * f[1]
    assert logits.grad[0, 1].item() == pytest.approx(0.75 * (f[1] - mean_f), rel=1e-5)


def test_joint_probabilities_and_index_agree():
    a = torch.log(t(0.2, 0.8))[None]
    b = torch.log(t(0.1, 0.3, 0.6))[None]
    joint = joint_log_probs([a, b]).exp()
    assert joint.sum().item() == pytest.approx(1.0)
    idx = joint_index([torch.tensor([1]), torch.tensor([2])], [2, 3])
    assert idx.item() == 5 and joint[0, 5].item() == pytest.approx(0.8 * 0.6)


def test_shapes_are_checked():
    with pytest.raises(AssertionError):
        soft_q_target(t(1.0, 2.0), t(0.0), t(1.0, 2.0), 0.9)
    with pytest.raises(AssertionError):
        critic_loss(t(1.0, 2.0)[:, None], t(1.0, 2.0)[:, None], t(1.0, 2.0)[:, None])
    with pytest.raises(AssertionError):
        soft_value(t(1.0, 2.0)[None], t(0.0))  # two Q outputs need probabilities
