import math

import gymnasium as gym
import numpy as np
import pytest
import torch

from thermorl.config import PolicyConfig
from thermorl.distributions import Categorical, DiagGaussian, Joint, MultiCategorical, SquashedGaussian
from thermorl.envs.spaces import ActionLayout
from thermorl.nets import ActorCritic


def test_multicategorical_sums_dimensions_and_respects_masks():
    logits = torch.randn(6, 7)
    mask = torch.tensor([[True, False, True, True, True, False, True]]).expand(6, 7)
    d = MultiCategorical.from_logits(logits, (3, 4), mask)
    parts = [Categorical.from_logits(logits[:, :3], mask[:, :3]),
             Categorical.from_logits(logits[:, 3:], mask[:, 3:])]
    a = d.sample()
    assert torch.allclose(d.log_prob(a), parts[0].log_prob(a[:, 0]) + parts[1].log_prob(a[:, 1]))
    assert torch.allclose(d.entropy(), parts[0].entropy() + parts[1].entropy())
    many = MultiCategorical.from_logits(torch.zeros(4000, 7), (3, 4), mask[:1].expand(4000, 7))
    s = many.sample()
    assert set(s[:, 0].tolist()) == {0, 2} and set(s[:, 1].tolist()) == {0, 1, 3}
    assert torch.allclose(many.entropy(), torch.full((4000,), math.log(2) + math.log(3)))


def test_composite_log_prob_is_sum_of_heads_on_a_nested_space():
    space = gym.spaces.Dict({"move": gym.spaces.Tuple((gym.spaces.Discrete(3),
                                                       gym.spaces.Box(-1, 1, (2,)))),
                             "fire": gym.spaces.MultiBinary(2)})
    layout = ActionLayout(space)
    torch.manual_seed(0)
    ac = ActorCritic(5, layout.heads, PolicyConfig())
    obs = torch.randn(8, 5)
    dist = ac.dist(obs)
    a = dist.sample()
    expect = sum(dist.heads[h].log_prob(a[h]) for h in layout.heads)
    assert torch.allclose(dist.log_prob(a), expect)
    sent = layout.to_env({k: v.numpy() for k, v in a.items()})
    assert set(sent) == {"move", "fire"} and isinstance(sent["move"], tuple)
    assert sent["move"][1].shape == (8, 2) and sent["fire"].dtype == np.int8
    assert gym.vector.utils.batch_space(space, 8).contains(sent)


def test_parameterized_heads_ignore_unchosen_options():
    sel = Categorical.from_logits(torch.randn(5, 2))
    jump = DiagGaussian(torch.randn(5, 1), torch.zeros(1))
    run = DiagGaussian(torch.randn(5, 2), torch.zeros(2))
    j = Joint({"kind": sel, "jump": jump, "run": run}, {"jump": ("kind", 0), "run": ("kind", 1)})
    a = j.sample()
    a["kind"] = torch.tensor([0, 1, 0, 1, 1])
    lp = j.log_prob(a)
    chosen = torch.where(a["kind"] == 0, jump.log_prob(a["jump"]), run.log_prob(a["run"]))
    assert torch.allclose(lp, sel.log_prob(a["kind"]) + chosen)
    # the unchosen head's action changes nothing
    b = dict(a, run=a["run"] + 100.0)
    assert torch.allclose(j.log_prob(b)[a["kind"] == 0], lp[a["kind"] == 0])
    use = j.usage(a)
    assert use["jump"].tolist() == [1, 0, 1, 0, 0] and use["run"].tolist() == [0, 1, 0, 1, 1]


def test_parameterized_entropy_counts_only_where_used():
    from thermorl.losses import entropy_loss

    ent = {"kind": torch.ones(4), "jump": torch.tensor([1.0, 9.0, 1.0, 9.0])}
    used = {"kind": torch.ones(4), "jump": torch.tensor([1.0, 0.0, 1.0, 0.0])}
    assert entropy_loss(ent, {"kind": 0.0, "jump": 1.0}, used).item() == pytest.approx(-1.0)


@pytest.mark.parametrize("mean,log_std,half", [([0.3, -1.0], [-0.5, 0.2], [2.0, 1.0]),
                                               ([2.5, 0.0], [0.8, -2.0], [1.0, 3.0])])
def test_squashed_entropy_is_entropy_of_the_env_action(mean, log_std, half):
    torch.manual_seed(0)
    d = SquashedGaussian(torch.tensor([mean]), torch.tensor(log_std), torch.tensor(half))
    u = d.mean + d.log_std.exp() * torch.randn(2_000_000, 2)
    mc = -d.log_prob(u).mean()  # Monte Carlo entropy of a = squash(u)
    assert d.entropy().item() == pytest.approx(mc.item(), abs=0.005)
    # the squashed action has less entropy than its Gaussian when sigma is large relative to 1
    wide = SquashedGaussian(torch.zeros(1, 1), torch.tensor([1.5]), torch.tensor([1.0]))
    assert wide.entropy().item() < DiagGaussian(torch.zeros(1, 1), torch.tensor([1.5])).entropy().item()


def test_squashed_actions_sent_inside_the_box():
    layout = ActionLayout(gym.spaces.Box(np.array([-2.0, 0.0]), np.array([2.0, 1.0])), squash=True)
    u = np.array([[-50.0, 50.0], [0.0, 0.0]], np.float32)
    sent = layout.to_env({"action": u})
    assert sent.tolist() == [[-2.0, 1.0], [0.0, 0.5]]
