"""Entropy actuators: each head kind lands on its target (closed form where there is one), `min`
never removes entropy, bounds are reported as saturation, heads start at their targets."""

import math

import gymnasium as gym
import pytest
import torch

from thermorl.distributions.gaussian import HALF_LOG_2PIE
from thermorl.entropy.actuators import Actuator, _solve
from thermorl.envs.spaces import head_specs
from thermorl.nets.heads import CategoricalHead, GaussianHead


def gaussian(dim=2, *, state_dependent=False, squash=False, lo=-5.0, hi=2.0, init=0.0):
    half = torch.full((dim,), 2.0) if squash else None
    return GaussianHead(8, dim, state_dependent=state_dependent, log_std_init=init,
                        log_std_min=lo, log_std_max=hi, half_range=half)


def features(n=64, seed=0):
    return torch.randn(n, 8, generator=torch.Generator().manual_seed(seed))


def entropy(head, x, mask=None):
    with torch.no_grad():
        return float(head(x, mask).entropy().mean())


def test_free_log_std_shift_is_exact_and_keeps_the_dimensions_apart():
    head = gaussian(3)
    with torch.no_grad():
        head.log_std.copy_(torch.tensor([0.1, -0.3, 0.5]))
    target = 3 * (HALF_LOG_2PIE + math.log(0.4))  # {std: 0.4} for the head
    c = Actuator(head, "equal").correct(target)
    got = float(head.log_std.detach().sum()) + 3 * HALF_LOG_2PIE
    assert got == pytest.approx(target, abs=1e-6) and not c.saturated
    # one shift for every dimension: the differences the policy learned stay
    torch.testing.assert_close(head.log_std - head.log_std[0],
                               torch.tensor([0.0, -0.4, 0.4]), atol=1e-6, rtol=0)
    assert c.before == pytest.approx(3 * HALF_LOG_2PIE + 0.3, abs=1e-6)
    assert c.after == pytest.approx(target, abs=1e-6)


def test_free_log_std_shift_goes_to_the_dimensions_inside_the_bounds():
    head = gaussian(2, lo=-1.0, hi=1.0)
    with torch.no_grad():
        head.log_std.copy_(torch.tensor([0.9, 0.0]))
    target = 2 * HALF_LOG_2PIE + 1.8  # +0.9 nats: the first dimension can give only 0.1
    c = Actuator(head, "equal").correct(target)
    torch.testing.assert_close(head.log_std.data, torch.tensor([1.0, 0.8]))
    assert not c.saturated
    c = Actuator(head, "equal").correct(2 * HALF_LOG_2PIE + 5.0)  # past both bounds
    torch.testing.assert_close(head.log_std.data, torch.tensor([1.0, 1.0]))
    assert c.saturated and c.after == pytest.approx(2 * HALF_LOG_2PIE + 2.0)


def test_min_adds_entropy_but_never_removes_it():
    head = gaussian(1)  # std 1: 1.419 nats
    c = Actuator(head, "min").correct(0.5)
    assert float(head.log_std.detach()) == 0.0 and c.after == c.before
    Actuator(head, "min").correct(2.0)
    assert float(head.log_std.detach()) + HALF_LOG_2PIE == pytest.approx(2.0, abs=1e-6)


@pytest.mark.parametrize("target_fraction", [0.2, 0.5, 0.95])
def test_categorical_temperature_lands_on_the_target(target_fraction):
    spec = head_specs(gym.spaces.Discrete(5))["action"]
    head = CategoricalHead(8, spec)
    with torch.no_grad():
        head.logits.weight.mul_(100.0)  # an uneven starting policy
    x = features()
    d = head(x)
    target = target_fraction * math.log(5)
    before, scale = entropy(head, x), float(head.logits.weight.detach().norm())
    c = Actuator(head, "equal").correct(target, d, torch.full((64,), 1 / 64))
    assert c.before == pytest.approx(before, abs=1e-5)
    assert entropy(head, x) == pytest.approx(target, abs=1e-4) and not c.saturated
    # the direction: less entropy wanted, larger logits (k > 1), and the other way round
    assert (target < before) == (float(head.logits.weight.detach().norm()) > scale)


def test_multicategorical_with_masks_and_weights():
    spec = head_specs(gym.spaces.MultiDiscrete([3, 4]))["action"]
    head = CategoricalHead(8, spec)
    with torch.no_grad():
        head.logits.weight.mul_(50.0)
    x = features(32)
    mask = torch.ones(32, 7, dtype=torch.bool)
    mask[:, 2] = False  # the first part has two valid actions of three
    w = torch.zeros(32)
    w[:16] = 1 / 16  # only the first half of the samples count
    target = 0.4 * (math.log(2) + math.log(4))
    Actuator(head, "equal").correct(target, head(x, mask), w)
    with torch.no_grad():
        got = float(head(x, mask).entropy()[:16].mean())
    assert got == pytest.approx(target, abs=1e-4)


def test_state_dependent_std_bias_shift_lands_on_the_target():
    head = gaussian(2, state_dependent=True)
    with torch.no_grad():
        head.log_std_layer.weight.mul_(30.0)  # log-std varies with the state
    x = features()
    target = 2 * (HALF_LOG_2PIE + math.log(0.2))
    c = Actuator(head, "equal").correct(target, head(x), torch.full((64,), 1 / 64))
    assert entropy(head, x) == pytest.approx(target, abs=1e-4) and not c.saturated


def test_squashed_head_lands_on_the_target_and_saturates_at_its_peak():
    head = gaussian(1, squash=True)
    with torch.no_grad():
        head.mean.bias.fill_(1.5)  # means near the edge of the box
    x = features()
    w = torch.full((64,), 1 / 64)
    act = Actuator(head, "equal")
    act.correct(-1.0, head(x), w)
    assert entropy(head, x) == pytest.approx(-1.0, abs=1e-4)
    # above what any std gives these means: it stops at the most entropy there is
    c = act.correct(3.0, head(x), w)
    assert c.saturated
    peak = entropy(head, x)
    for shift in (-0.3, 0.3):
        with torch.no_grad():
            head.log_std.add_(shift)
        assert entropy(head, x) <= peak + 1e-4
        with torch.no_grad():
            head.log_std.sub_(shift)


@pytest.mark.parametrize("kind", ["free", "state_dependent", "squashed"])
def test_a_new_head_starts_at_its_target(kind):
    head = gaussian(3, state_dependent=kind == "state_dependent", squash=kind == "squashed")
    target = 3 * (HALF_LOG_2PIE + math.log(0.3)) + (3 * math.log(2.0) if kind == "squashed"
                                                      else 0.0)
    Actuator(head, "equal").start_at(target)
    # the head's means are near 0 when built (output gain 0.01): within 0.01 nats
    assert entropy(head, features()) == pytest.approx(target, abs=0.01)


def test_solver_brackets_newton_and_stops_at_a_peak():
    line = lambda t: (2 * t + 1, 2.0)  # noqa: E731
    x, h, sat = _solve(line, 3.0, -5.0, 5.0, increasing=True)
    assert (x, h, sat) == (pytest.approx(1.0), pytest.approx(3.0), False)
    assert _solve(line, 30.0, -5.0, 5.0, increasing=True)[2]  # out of reach
    x, h, sat = _solve(lambda t: (-t, -1.0), -2.0, -5.0, 5.0, increasing=False)
    assert x == pytest.approx(2.0) and not sat
    hump = lambda c: lambda t: (-(t - c) ** 2 + 2, -2 * (t - c))  # noqa: E731
    x, h, sat = _solve(hump(1.0), 1.9, -5.0, 5.0, True, peaked=True)
    assert x == pytest.approx(1 - math.sqrt(0.1), abs=1e-6) and not sat
    x, h, sat = _solve(hump(1.0), 2.5, -5.0, 5.0, True, peaked=True)
    assert x == pytest.approx(1.0, abs=1e-4) and h == pytest.approx(2.0) and sat
    # already past the peak: the root on the rising side, above or below the start
    x, _, sat = _solve(hump(-2.0), 1.5, -5.0, 5.0, True, peaked=True)
    assert x == pytest.approx(-2 - math.sqrt(0.5), abs=1e-6) and not sat
    x, _, sat = _solve(hump(-2.0), -5.0, -5.0, 5.0, True, peaked=True)
    assert x == pytest.approx(-2 - math.sqrt(7), abs=1e-6) and not sat
