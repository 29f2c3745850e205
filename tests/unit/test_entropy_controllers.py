import math

import gymnasium as gym
import pytest
import torch

import thermorl
from thermorl.config import EntropyConfig
from thermorl.config_io import merge
from thermorl.entropy import AutoEntropyLoss, EntropyControl
from thermorl.entropy.resolve import head_settings
from thermorl.envs.spaces import head_specs
from thermorl.errors import ConfigError

SPECS = {**{"pick": head_specs(gym.spaces.Discrete(4))["action"]},
         **{"move": head_specs(gym.spaces.Box(-1.0, 1.0, (2,)))["action"]}}


def control(**entropy):
    cfg = merge(EntropyConfig(), entropy, "entropy.")
    return EntropyControl(head_settings(cfg, SPECS, 0.0), SPECS)


def step_from(ctl, entropies, n=1):
    for _ in range(n):
        ctl.observe(entropies, 0.0)
    return ctl.coefs(0.0)


@pytest.mark.parametrize("controller", ["pi", "dual"])
@pytest.mark.parametrize("constraint", ["equal", "min"])
def test_direction_per_head_independently(controller, constraint):
    ctl = control(mode="learned", controller=controller, constraint=constraint, coef=0.05,
                  target="auto")
    t = {h: c.target(0.0) for h, c in ctl.heads.items()}
    c0 = ctl.coefs(0.0)
    # pick below its target, move above its target: pick's coefficient rises, move's falls
    c1 = step_from(ctl, {"pick": t["pick"] - 0.3, "move": t["move"] + 0.3}, n=5)
    assert c1["pick"] > c0["pick"]
    assert c1["move"] < c0["move"]
    # and the other way round, from a fresh controller
    ctl = control(mode="learned", controller=controller, constraint=constraint, coef=0.05)
    c2 = step_from(ctl, {"pick": t["pick"] + 0.3, "move": t["move"] - 0.3}, n=5)
    assert c2["pick"] < c0["pick"] and c2["move"] > c0["move"]


@pytest.mark.parametrize("controller", ["pi", "dual"])
def test_only_equal_goes_below_zero(controller):
    eq = control(mode="learned", controller=controller, constraint="equal", coef=0.01)
    mn = control(mode="learned", controller=controller, constraint="min", coef=0.01)
    high = {h: c.target(0.0) + 1.0 for h, c in eq.heads.items()}
    ce, cm = step_from(eq, high, n=2000), step_from(mn, high, n=2000)
    assert all(v < 0 for v in ce.values())
    assert all(v > 0 for v in cm.values())
    # bounds hold: |c| <= coef_max for equal, alpha >= coef_min for min
    assert all(v >= -0.5 - 1e-12 for v in ce.values())
    assert all(v >= 1e-4 * (1 - 1e-9) for v in cm.values())


def test_pi_at_target_keeps_coefficient_and_proportional_term_acts_at_once():
    ctl = control(mode="learned", coef=0.02, kp=0.1, ki=0.0)
    at = {h: c.target(0.0) for h, c in ctl.heads.items()}
    assert step_from(ctl, at) == pytest.approx({"pick": 0.02, "move": 0.02})
    below = {"pick": at["pick"] - math.log(4) * 0.1, "move": at["move"]}
    assert step_from(ctl, below)["pick"] == pytest.approx(0.02 + 0.1 * 0.1)


def test_fixed_and_scheduled_coefficients_ignore_entropy():
    ctl = control(mode="scheduled", coef={"start": 0.02, "end": 0.0}, heads={"move": {
        "mode": "fixed", "coef": 0.003}})
    ctl.observe({"pick": 0.0, "move": 0.0}, 0.5)
    assert ctl.coefs(0.5) == pytest.approx({"pick": 0.01, "move": 0.003})


def test_nan_entropy_leaves_controller_finite():
    ctl = control(mode="learned", controller="dual")
    ctl.observe({"pick": float("nan"), "move": float("inf")}, 0.0)
    assert all(math.isfinite(v) for v in ctl.coefs(0.0).values())


def test_set_target_and_state_round_trip():
    ctl = control(mode="learned")
    ctl.set_target("pick", {"fraction": 0.25})
    assert ctl.heads["pick"].target(0.7) == pytest.approx(0.25 * math.log(4))
    ctl.observe({"pick": 0.1, "move": 0.0}, 0.0)
    other = control(mode="learned")
    other.load_state_dict(ctl.state_dict())
    assert other.coefs(0.0) == ctl.coefs(0.0)
    assert other.heads["pick"].target(0.0) == ctl.heads["pick"].target(0.0)
    with pytest.raises(ConfigError, match="no head 'fire'; heads: pick, move"):
        ctl.set_target("fire", 0.1)
    with pytest.raises(ConfigError, match="fraction 2"):
        ctl.set_target("pick", {"fraction": 2})


def test_plateau_lowers_target_to_floor():
    ctl = control(mode="learned", target={"fraction": 0.8},
                  plateau={"patience": 2, "factor": 0.5, "floor": 0.3, "smoothing": 0.0},
                  heads={"move": {"target": {"std": 0.5}}})
    pick = ctl.heads["pick"]
    for ret in [1.0, 2.0, 2.0, 2.0]:  # improves, then stalls for 2 updates
        ctl.end_update({"pick": 1.0, "move": 0.0}, 0.0, ret)
    assert pick.target(0.0) == pytest.approx(0.4 * math.log(4))
    for _ in range(10):
        ctl.end_update({"pick": 1.0, "move": 0.0}, 0.0, 2.0)
    assert pick.target(0.0) == pytest.approx(0.3 * math.log(4))  # the floor


def test_collapse_warning_printed_once(capsys):
    ctl = control(collapse_patience=3, collapse_fraction=0.5)
    ctl.end_update({"pick": 1.0, "move": 0.0}, 0.0, None)
    for _ in range(6):
        m = ctl.end_update({"pick": 0.1, "move": 0.0}, 0.0, None)
    err = capsys.readouterr().err
    assert err.count("entropy of head 'pick' collapsed") == 1
    assert m["warn/entropy_collapse/pick"] == 1.0 and m["warn/entropy_collapse/move"] == 0.0


@pytest.mark.parametrize("entropy,match", [
    ({"heads": {"fire": {"mode": "fixed"}}}, r"no head 'fire'; its heads: pick, move"),
    ({"target": {"fraction": 0.5}}, r"head 'move' is Gaussian"),
    ({"heads": {"pick": {"target": {"nats": 3.0}}}}, r"3.0 nats for discrete head 'pick'"),
    ({"mode": "fixed", "coef": {"start": 0.1, "end": 0.0}}, "use mode: scheduled"),
])
def test_validation_against_the_action_space(entropy, match):
    with pytest.raises(ConfigError, match=match):
        control(**entropy)


def test_config_errors_through_cli_resolve():
    with pytest.raises(ConfigError, match=r"entropy.heads.action.tgt.*entropy.heads.action.target"):
        thermorl.make_config("CartPole-v1", **{"entropy.heads.action.tgt": "0.1"})
    with pytest.raises(ThermorlErrorTypes, match=r"std 0.0 for head 'action'"):
        thermorl.PPO("Pendulum-v1", thermorl.make_config(
            "Pendulum-v1", **{"entropy.target": "{std: 0.0}"}))


ThermorlErrorTypes = thermorl.ThermorlError


def test_auto_entropy_loss_sign_is_right_and_the_common_snippet_is_wrong():
    high = torch.full((64,), 2.0)  # entropy well above the target
    ours = AutoEntropyLoss(init_alpha=0.2, target_entropy=0.5, lr=0.05)
    for _ in range(20):
        alpha, loss = ours.step(high)
    assert alpha.item() < 0.2  # entropy high -> less bonus
    low = AutoEntropyLoss(init_alpha=0.2, target_entropy=0.5, lr=0.05)
    for _ in range(20):
        alpha, _ = low.step(torch.full((64,), -1.0))
    assert alpha.item() > 0.2  # entropy low -> more bonus
    # the widely copied snippet, stepped the same way, raises alpha when entropy is high
    log_alpha = torch.tensor(math.log(0.2), requires_grad=True)
    opt = torch.optim.Adam([log_alpha], lr=0.05)
    for _ in range(20):
        opt.zero_grad()
        (-(log_alpha * (high + 0.5)).mean()).backward()
        opt.step()
    assert log_alpha.exp().item() > 0.2


def test_auto_entropy_loss_api():
    a = AutoEntropyLoss()
    with pytest.raises(ValueError, match="set_target_entropy"):
        a.step(torch.ones(3))
    a.set_target_entropy(-2.0)
    h = torch.ones(3, requires_grad=True)
    alpha, loss = a.step(h, detach_entropy=False)
    assert loss.requires_grad and not alpha.requires_grad and h.grad is None
    assert a.alpha.item() == pytest.approx(alpha.item())
    with pytest.raises(ValueError, match="init_alpha"):
        AutoEntropyLoss(init_alpha=0.0)
