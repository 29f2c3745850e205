import pytest
import torch

from thermorl.losses import gae

GAMMA, LAM = 0.9, 0.8


def hand_gae(r, v, nv, term, end):
    """Backward recursion written out scalar by scalar for one env."""
    T = len(r)
    adv = [0.0] * T
    nxt = 0.0
    for t in reversed(range(T)):
        delta = r[t] + GAMMA * (0.0 if term[t] else nv[t]) - v[t]
        nxt = delta + (0.0 if end[t] else GAMMA * LAM * nxt)
        adv[t] = nxt
    return adv


def as_col(x):
    return torch.tensor(x, dtype=torch.float32).unsqueeze(1)


def test_gae_matches_hand_computation_numbers():
    # Three steps, no episode end: the textbook case, with numbers worked out by hand.
    r, v, nv = [1.0, 0.0, 2.0], [0.5, 1.0, 1.5], [1.0, 1.5, 3.0]
    adv, ret = gae(as_col(r), as_col(v), as_col(nv), as_col([0, 0, 0]), as_col([0, 0, 0]),
                   GAMMA, LAM)
    d2 = 2.0 + 0.9 * 3.0 - 1.5          # 3.2
    d1 = 0.0 + 0.9 * 1.5 - 1.0          # 0.35
    d0 = 1.0 + 0.9 * 1.0 - 0.5          # 1.4
    a2 = d2
    a1 = d1 + 0.72 * a2                 # 2.654
    a0 = d0 + 0.72 * a1                 # 3.31088
    assert adv.squeeze(1).tolist() == pytest.approx([a0, a1, a2], abs=1e-5)
    assert ret.squeeze(1).tolist() == pytest.approx([a0 + 0.5, a1 + 1.0, a2 + 1.5], abs=1e-5)


def test_termination_cuts_bootstrap_truncation_keeps_it():
    r, v, nv = [1.0, 1.0, 1.0], [2.0, 2.0, 2.0], [2.0, 5.0, 2.0]
    end = [0, 1, 0]
    term_adv, _ = gae(as_col(r), as_col(v), as_col(nv), as_col([0, 1, 0]), as_col(end), GAMMA, LAM)
    trunc_adv, _ = gae(as_col(r), as_col(v), as_col(nv), as_col([0, 0, 0]), as_col(end), GAMMA, LAM)
    # step 1 ends the episode: terminated gives delta = r - V; truncated bootstraps V(final obs)=5
    assert term_adv[1, 0].item() == pytest.approx(1.0 - 2.0)
    assert trunc_adv[1, 0].item() == pytest.approx(1.0 + 0.9 * 5.0 - 2.0)
    for adv, term in ((term_adv, [0, 1, 0]), (trunc_adv, [0, 0, 0])):
        assert adv.squeeze(1).tolist() == pytest.approx(hand_gae(r, v, nv, term, end), abs=1e-6)


def test_episode_end_stops_recursion_across_episodes():
    r = [0.0, 0.0, 100.0]
    v = nv = [0.0, 0.0, 0.0]
    adv, _ = gae(as_col(r), as_col(v), as_col(nv), as_col([0, 0, 0]), as_col([0, 1, 0]), GAMMA, LAM)
    assert adv[0, 0].item() == 0.0 and adv[1, 0].item() == 0.0  # the 100 is another episode's
    assert adv[2, 0].item() == 100.0


def test_envs_are_independent_columns():
    torch.manual_seed(1)
    T, N = 6, 3
    r, v, nv = torch.randn(T, N), torch.randn(T, N), torch.randn(T, N)
    term = (torch.rand(T, N) < 0.2).float()
    end = torch.maximum(term, (torch.rand(T, N) < 0.2).float())
    adv, ret = gae(r, v, nv, term, end, GAMMA, LAM)
    for i in range(N):
        expect = hand_gae(r[:, i].tolist(), v[:, i].tolist(), nv[:, i].tolist(),
                          term[:, i].tolist(), end[:, i].tolist())
        assert adv[:, i].tolist() == pytest.approx(expect, abs=1e-5)
    assert torch.allclose(ret, adv + v)


def test_lambda_one_is_discounted_return_minus_value():
    r = torch.tensor([[1.0], [2.0], [3.0]])
    v = torch.tensor([[0.5], [0.25], [1.0]])
    nv = torch.tensor([[0.25], [1.0], [4.0]])
    adv, ret = gae(r, v, nv, torch.zeros(3, 1), torch.zeros(3, 1), gamma=0.5, lam=1.0)
    # Monte Carlo with bootstrap from V(s_3) = 4: R_0 = 1 + .5*2 + .25*3 + .125*4
    assert ret[0, 0].item() == pytest.approx(1 + 1 + 0.75 + 0.5)


def test_shape_mismatch_is_caught():
    with pytest.raises(AssertionError, match="values"):
        gae(torch.zeros(3, 2), torch.zeros(3, 1), torch.zeros(3, 2), torch.zeros(3, 2),
            torch.zeros(3, 2), 0.9, 0.9)
