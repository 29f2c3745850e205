import pytest
import torch

from thermorl.losses import (approx_kl, clip_fraction, clipped_surrogate, entropy_loss,
                             explained_variance, masked_mean, masked_normalize, value_loss)


def grad_of_surrogate(ratio_value: float, adv_value: float, clip: float = 0.2) -> float:
    ratio = torch.tensor([ratio_value], requires_grad=True)
    clipped_surrogate(ratio, torch.tensor([adv_value]), clip).backward()
    return ratio.grad.item()


@pytest.mark.parametrize("ratio,adv", [(1.5, 1.0), (1.21, 2.0), (0.5, -1.0), (0.79, -3.0)])
def test_zero_gradient_outside_clip_region_in_the_clipped_direction(ratio, adv):
    assert grad_of_surrogate(ratio, adv) == 0.0


@pytest.mark.parametrize("ratio,adv", [(1.0, 1.0), (1.1, 2.0), (0.9, -1.0),
                                       # pessimistic side keeps gradient: ratio low, adv > 0
                                       (0.5, 1.0), (1.5, -1.0)])
def test_gradient_is_minus_advantage_where_unclipped_branch_is_active(ratio, adv):
    assert grad_of_surrogate(ratio, adv) == pytest.approx(-adv)


def test_surrogate_value_and_mask():
    ratio = torch.tensor([1.0, 1.5, 0.5, 7.0])
    adv = torch.tensor([1.0, 1.0, 1.0, 1.0])
    # min(r*A, clip(r)*A) = [1, 1.2, 0.5, 1.2]
    assert clipped_surrogate(ratio, adv, 0.2).item() == pytest.approx(-(1 + 1.2 + 0.5 + 1.2) / 4)
    mask = torch.tensor([1.0, 1.0, 1.0, 0.0])
    assert clipped_surrogate(ratio, adv, 0.2, mask).item() == pytest.approx(-(1 + 1.2 + 0.5) / 3)


def test_value_loss_plain_and_clipped():
    v = torch.tensor([1.0, 3.0])
    ret = torch.tensor([0.0, 0.0])
    assert value_loss(v, ret).item() == pytest.approx(0.5 * (1 + 9) / 2)
    old = torch.tensor([0.0, 0.0])
    # clipped: v_clip = old + clip(v-old, -.5, .5) = [.5, .5] -> errs [.25, .25]; max with [1, 9]
    assert value_loss(v, ret, old, 0.5).item() == pytest.approx(0.5 * (1 + 9) / 2)
    # when the clipped error is the larger one it wins: old far from target
    old2 = torch.tensor([5.0, 5.0])
    v2 = torch.tensor([1.0, 1.0])
    # v_clip = 5 + clip(-4) = 4.5 -> err 20.25 > 1
    assert value_loss(v2, ret, old2, 0.5).item() == pytest.approx(0.5 * 20.25)


def test_clipped_value_loss_has_zero_gradient_when_clipped_branch_dominates():
    v = torch.tensor([1.0], requires_grad=True)
    value_loss(v, torch.tensor([0.0]), torch.tensor([5.0]), 0.5).backward()
    assert v.grad.item() == 0.0


def test_entropy_loss_per_head_coefficients_and_sign():
    ent = {"a": torch.tensor([1.0, 3.0]), "b": torch.tensor([0.5, 0.5])}
    loss = entropy_loss(ent, {"a": 0.1, "b": -2.0})
    assert loss.item() == pytest.approx(-(0.1 * 2.0 - 2.0 * 0.5))
    with pytest.raises(AssertionError, match="b"):
        entropy_loss(ent, {"a": 0.1})


def test_entropy_loss_coefficient_tensor_is_detached():
    c = torch.tensor(0.5, requires_grad=True)
    h = torch.tensor([1.0], requires_grad=True)
    entropy_loss({"x": h}, {"x": c}).backward()
    assert c.grad is None and h.grad.item() == pytest.approx(-0.5)


def test_masked_mean_and_normalize():
    x = torch.tensor([1.0, 2.0, 3.0, 100.0])
    m = torch.tensor([1.0, 1.0, 1.0, 0.0])
    assert masked_mean(x, m).item() == pytest.approx(2.0)
    assert masked_mean(x, torch.zeros(4)).item() == 0.0
    z = masked_normalize(x, m)
    assert z[:3].tolist() == pytest.approx([-1.0, 0.0, 1.0], abs=1e-6)  # unbiased std of 1,2,3 = 1
    full = masked_normalize(x[:3])
    assert torch.allclose(full, z[:3])


def test_masked_normalize_rows_each_on_their_own():
    """A [k, n] input is k minibatches: each row takes its own mean and std."""
    x = torch.tensor([[1.0, 2.0, 3.0, 100.0], [10.0, 30.0, -5.0, 50.0]])
    m = torch.tensor([[1.0, 1.0, 1.0, 0.0], [1.0, 0.0, 1.0, 1.0]])
    z = masked_normalize(x, m)
    assert z[0, :3].tolist() == pytest.approx([-1.0, 0.0, 1.0], abs=1e-6)
    for i in range(2):
        assert torch.allclose(z[i], masked_normalize(x[i], m[i]))
        assert torch.allclose(masked_normalize(x)[i], masked_normalize(x[i]))


def test_diagnostics():
    log_ratio = torch.tensor([0.0, 0.1, -0.3])
    expect = ((torch.exp(log_ratio) - 1) - log_ratio).mean()
    assert approx_kl(log_ratio).item() == pytest.approx(expect.item())
    assert approx_kl(torch.zeros(5)).item() == 0.0
    assert clip_fraction(torch.tensor([1.0, 1.3, 0.7, 1.1]), 0.2).item() == pytest.approx(0.5)
    t = torch.tensor([1.0, 2.0, 3.0])
    assert explained_variance(t, t).item() == pytest.approx(1.0)
    assert explained_variance(torch.full((3,), 2.0), t).item() == pytest.approx(0.0)
    assert torch.isnan(explained_variance(t, torch.ones(3)))
