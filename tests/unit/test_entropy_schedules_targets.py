import math

import gymnasium as gym
import pytest

from thermorl.entropy import schedules, targets
from thermorl.envs.spaces import head_specs
from thermorl.errors import ConfigError

CAT5 = head_specs(gym.spaces.Discrete(5))["action"]
GAUSS3 = head_specs(gym.spaces.Box(-2.0, 2.0, (3,)))["action"]


@pytest.mark.parametrize("spec,at0,at_half,at1", [
    (0.3, 0.3, 0.3, 0.3),
    ({"start": 1.0, "end": 0.0, "shape": "linear"}, 1.0, 0.5, 0.0),
    ({"start": 1.0, "end": 0.01, "shape": "exponential"}, 1.0, 0.1, 0.01),
    ({"start": 1.0, "end": 0.0, "shape": "cosine"}, 1.0, 0.5, 0.0),
    ({"staged": [[0, 3.0], [0.5, 2.0], [0.9, 1.0]]}, 3.0, 2.0, 1.0),
])
def test_schedule_endpoints_and_midpoints(spec, at0, at_half, at1):
    s = schedules.parse(spec)
    assert s(0.0) == pytest.approx(at0)
    assert s(0.5) == pytest.approx(at_half)
    assert s(1.0) == pytest.approx(at1)
    assert s(-1) == s(0) and s(2) == s(1)  # progress is clamped
    assert schedules.parse(schedules.to_config(s)) == s


def test_schedule_shapes_differ_between_endpoints():
    lin = schedules.parse({"start": 1.0, "end": 0.0})
    cos = schedules.parse({"start": 1.0, "end": 0.0, "shape": "cosine"})
    exp = schedules.parse({"start": 1.0, "end": 0.01, "shape": "exponential"})
    assert cos(0.25) > lin(0.25) and cos(0.75) < lin(0.75)  # cosine lingers at both ends
    assert exp(0.25) == pytest.approx(0.01 ** 0.25)
    staged = schedules.parse([[0, 1.0], [0.5, 2.0]])
    assert staged(0.49) == 1.0 and staged(0.5) == 2.0


@pytest.mark.parametrize("bad,match", [
    ("x", "expected a number"), ({"start": 1, "shape": "square"}, "unknown schedule shape"),
    ({"start": 1, "end": 0, "shape": "exponential"}, "same sign"),
    ({"staged": [[0.2, 1.0]]}, "must start at 0"), ({"staged": [[0, 1], [0.5]]}, r"\[progress, value\]"),
    ({"stop": 1}, "expected"),
])
def test_schedule_errors(bad, match):
    with pytest.raises(ConfigError, match=match):
        schedules.parse(bad, "entropy.coef")


def test_targets_to_nats_closed_forms():
    assert targets.to_nats("fraction", 0.5, CAT5) == pytest.approx(0.5 * math.log(5))
    assert targets.to_nats("fraction", 1.0, CAT5, max_entropy=math.log(3)) == pytest.approx(math.log(3))
    assert targets.to_nats("std", 0.3, GAUSS3) == pytest.approx(
        3 * 0.5 * math.log(2 * math.pi * math.e * 0.3**2))
    assert targets.to_nats("nats", -1.5, GAUSS3) == -1.5


def test_auto_targets():
    t = targets.resolve_auto(targets.parse("auto", "t"), CAT5)
    assert (t.unit, t.value(0)) == ("fraction", 0.5)
    g = targets.resolve_auto(targets.parse("auto", "t"), GAUSS3)
    assert g.unit == "std" and g.value(0) == pytest.approx(0.25 * 2.0)
    unbounded = head_specs(gym.spaces.Box(-math.inf, math.inf, (2,)))["action"]
    assert targets.resolve_auto(targets.parse("auto", "t"), unbounded).value(0) == 0.5


@pytest.mark.parametrize("target,spec,match", [
    ({"fraction": 1.2}, CAT5, r"fraction 1.2 for head 'action' is outside \[0, 1\]"),
    ({"nats": 2.0}, CAT5, r"2.0 nats for discrete head 'action' is outside its range \[0, 1.6094\]"),
    ({"nats": -0.1}, CAT5, r"outside its range"),
    ({"std": 0.0}, GAUSS3, r"std 0.0 for head 'action' must be > 0"),
    ({"std": {"start": 0.5, "end": -0.1}}, GAUSS3, r"std -0.1"),
    ({"fraction": 0.5}, GAUSS3, "is Gaussian; a fraction target is for discrete"),
    ({"std": 0.5}, CAT5, "is discrete; a std target is for Gaussian"),
])
def test_impossible_targets_name_head_value_and_range(target, spec, match):
    with pytest.raises(ConfigError, match=match):
        targets.check(targets.parse(target, "entropy.target"), spec, "action", "entropy.target")
