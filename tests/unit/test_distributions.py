import math

import pytest
import torch

from thermorl.distributions import Categorical, DiagGaussian, Joint
from thermorl.distributions.gaussian import entropy_per_dim


@pytest.mark.parametrize("n", [2, 3, 7, 18])
def test_uniform_categorical_entropy_is_log_n(n):
    d = Categorical.from_logits(torch.zeros(5, n))
    assert torch.allclose(d.entropy(), torch.full((5,), math.log(n)))


def test_categorical_matches_closed_form_and_torch():
    logits = torch.randn(4, 5)
    d = Categorical.from_logits(logits)
    ref = torch.distributions.Categorical(logits=logits)
    a = torch.tensor([0, 4, 2, 1])
    assert torch.allclose(d.log_prob(a), ref.log_prob(a), atol=1e-6)
    assert torch.allclose(d.entropy(), ref.entropy(), atol=1e-6)
    p = torch.softmax(logits, -1)
    assert torch.allclose(d.entropy(), -(p * p.log()).sum(-1), atol=1e-6)


def test_masked_categorical_never_samples_masked_and_entropy_is_over_valid():
    mask = torch.tensor([[True, False, True, False]]).expand(2000, 4)
    d = Categorical.from_logits(torch.zeros(2000, 4), mask)
    s = d.sample()
    assert set(s.tolist()) == {0, 2}
    assert torch.allclose(d.entropy(), torch.full((2000,), math.log(2)))
    logits = torch.randn(3, 4, requires_grad=True)
    d2 = Categorical.from_logits(logits, torch.tensor([[True, True, False, False]] * 3))
    d2.entropy().sum().backward()
    assert torch.isfinite(logits.grad).all() and (logits.grad[:, 2:] == 0).all()


def test_mask_shape_error_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2, 4\)"):
        Categorical.from_logits(torch.zeros(2, 4), torch.ones(2, 3, dtype=torch.bool))


@pytest.mark.parametrize("sigma", [0.1, 0.5, 1.0, 2.5])
def test_gaussian_entropy_closed_form_per_dim_summed(sigma):
    d = 3
    dist = DiagGaussian(torch.zeros(4, d), torch.full((d,), math.log(sigma)))
    expect = d * 0.5 * math.log(2 * math.pi * math.e * sigma**2)
    assert torch.allclose(dist.entropy(), torch.full((4,), expect), atol=1e-5)
    assert entropy_per_dim(sigma) == pytest.approx(expect / d)


def test_gaussian_log_prob_matches_normal_density():
    mean, log_std = torch.randn(6, 2), torch.randn(6, 2) * 0.3
    a = torch.randn(6, 2)
    ref = torch.distributions.Normal(mean, log_std.exp()).log_prob(a).sum(-1)
    assert torch.allclose(DiagGaussian(mean, log_std).log_prob(a), ref, atol=1e-5)


def test_gaussian_entropy_equals_minus_expected_log_prob():
    torch.manual_seed(3)
    dist = DiagGaussian(torch.zeros(200_000, 2), torch.tensor([0.3, -0.7]))
    mc = -dist.log_prob(dist.sample()).mean()
    assert mc.item() == pytest.approx(dist.entropy()[0].item(), abs=0.01)


def test_sampled_action_carries_no_gradient_parameters_do():
    mean = torch.zeros(3, 2, requires_grad=True)
    log_std = torch.zeros(2, requires_grad=True)
    dist = DiagGaussian(mean, log_std)
    a = dist.sample()
    assert not a.requires_grad
    dist.log_prob(a).sum().backward()
    assert mean.grad is not None and log_std.grad is not None
    logits = torch.zeros(3, 4, requires_grad=True)
    assert not Categorical.from_logits(logits).sample().requires_grad


def test_joint_log_prob_is_sum_of_heads_and_entropy_per_head():
    c = Categorical.from_logits(torch.randn(5, 3))
    g = DiagGaussian(torch.randn(5, 2), torch.tensor([0.1, -0.2]))
    j = Joint({"pick": c, "move": g})
    acts = j.sample()
    assert torch.allclose(j.log_prob(acts), c.log_prob(acts["pick"]) + g.log_prob(acts["move"]))
    ent = j.entropy()
    assert set(ent) == {"pick", "move"}
    assert torch.allclose(ent["move"], g.entropy())


def test_sampling_with_generator_is_reproducible():
    d = DiagGaussian(torch.zeros(4, 2), torch.zeros(2))
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    assert torch.equal(d.sample(g1), d.sample(g2))
    c = Categorical.from_logits(torch.zeros(8, 5))
    assert torch.equal(c.sample(torch.Generator().manual_seed(2)),
                       c.sample(torch.Generator().manual_seed(2)))


def test_sample_log_prob_is_sample_then_log_prob():
    """The same draws as sample() and, within rounding, the log-prob that log_prob() gives:
    a plain Gaussian's from eps alone, every other head's through log_prob."""
    from thermorl.distributions import Categorical, DiagGaussian, Joint, SquashedGaussian

    def joint(seed):
        g = torch.Generator().manual_seed(seed)
        mean, lsd = torch.randn(5, 3, generator=g), torch.randn(5, 3, generator=g)
        return Joint({
            "free": DiagGaussian(mean, torch.tensor([0.3, -1.0, 0.5])),
            "state": DiagGaussian(mean, lsd),
            "squashed": SquashedGaussian(mean, lsd, torch.tensor([1.0, 2.0, 0.5])),
            "pick": Categorical.from_logits(torch.randn(5, 2, generator=g)),
        }, used_when={"state": ("pick", 1)})

    eps = {"free": torch.randn(5, 3, generator=torch.Generator().manual_seed(9))}
    a_ref = joint(0).sample(torch.Generator().manual_seed(1), eps)
    a, lp = joint(0).sample_log_prob(torch.Generator().manual_seed(1), eps)
    for k in a_ref:
        assert torch.equal(a[k], a_ref[k]), k
    torch.testing.assert_close(lp, joint(0).log_prob(a_ref), rtol=1e-5, atol=1e-5)
