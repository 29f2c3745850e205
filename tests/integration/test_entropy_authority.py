"""Entropy authority in training: the actuators keep PPO sound (the first minibatch after a
rollout sees the policy that acted; fused and autograd correct alike), heads start at their
targets, and a target out of reach is reported once, while reachable ones stay quiet."""

import math

import numpy as np
import pytest
import torch
from conftest import FAST_DOTTED

import thermorl
from thermorl.learners import FusedPPOLearner

STD_SCHEDULE = {"std": {"start": 0.6, "end": 0.3, "shape": "linear"}}


def make(env_id, **extra):
    cfg = thermorl.make_config(env_id, **{**FAST_DOTTED, "preset": "none", "seed": 2,
                                          "total_timesteps": 768, "entropy.mode": "learned",
                                          "log.tensorboard": False, **extra})
    return thermorl.PPO(env_id, cfg)


def first_minibatch_kls(algo, monkeypatch):
    """Record each update's first minibatch's approx KL (either path)."""
    kls, state = [], {"first": True}

    def keep(kl):
        if state["first"]:
            kls.append(kl)
            state["first"] = False

    evaluate = algo.learner._evaluate  # either learner's minibatch terms, by name

    def recorded(mb, clip, coefs):
        ev = evaluate(mb, clip, coefs)
        keep(ev.terms["diag/approx_kl"])
        return ev

    monkeypatch.setattr(algo.learner, "_evaluate", recorded)
    collect = algo._collect

    def new_rollout():
        state["first"] = True
        collect()
    monkeypatch.setattr(algo, "_collect", new_rollout)
    return kls


@pytest.mark.parametrize("env_id,extra", [
    ("Pendulum-v1", {"entropy.target": STD_SCHEDULE}),
    ("Pendulum-v1", {"entropy.target": STD_SCHEDULE, "ppo.fused": False}),
    ("Pendulum-v1", {"entropy.target": STD_SCHEDULE, "policy.state_dependent_std": True}),
    ("CartPole-v1", {"entropy.target": {"fraction": {"start": 0.9, "end": 0.2}}}),
    ("CartPole-v1", {"entropy.target": {"fraction": 0.2}, "ppo.recurrent": "gru"}),
], ids=["fused", "autograd", "state-dependent", "categorical", "recurrent"])
def test_the_first_minibatch_after_a_rollout_sees_the_policy_that_acted(env_id, extra,
                                                                      monkeypatch):
    algo = make(env_id, **extra)
    kls = first_minibatch_kls(algo, monkeypatch)
    algo.learn()
    assert len(kls) == len(algo.logger.history) == 6
    # the ratio is exactly 1 there: the actuators moved the policy before it acted, not after
    assert max(abs(k) for k in kls) < 1e-6, kls
    h = algo.logger.history
    assert all(r["diag/approx_kl"] > 0 for r in h)  # later minibatches see the steps and fixes


def test_fused_and_autograd_correct_alike():
    ends = []
    for fused in (True, False):
        algo = make("CartPole-v1", **{"entropy.target": {"fraction": 0.3}, "ppo.fused": fused,
                                      "total_timesteps": 512})
        assert isinstance(algo.learner, FusedPPOLearner) == fused
        algo.learn()
        ends.append((torch.cat([p.detach().reshape(-1) for p in algo.policy.parameters()]),
                     algo.logger.history[-1]["entropy/action"]))
    torch.testing.assert_close(ends[0][0], ends[1][0], rtol=1e-3, atol=1e-4)
    assert ends[0][1] == pytest.approx(ends[1][1], abs=1e-4)
    assert ends[0][1] == pytest.approx(0.3 * math.log(2), abs=0.02)


def test_a_learned_gaussian_head_starts_at_its_target_unless_log_std_init_is_given():
    algo = make("Pendulum-v1", **{"entropy.target": STD_SCHEDULE})
    assert float(algo.policy.heads["action"].log_std.detach()) == pytest.approx(math.log(0.6), abs=1e-6)
    algo = make("Pendulum-v1", **{"entropy.target": STD_SCHEDULE, "policy.log_std_init": -1.0})
    assert float(algo.policy.heads["action"].log_std.detach()) == -1.0
    algo = make("Pendulum-v1", **{"entropy.mode": "fixed"})  # no target to start at
    assert float(algo.policy.heads["action"].log_std.detach()) == 0.0


def test_a_target_the_log_std_bounds_cannot_give_is_reported_when_built(capsys):
    algo = make("Pendulum-v1", **{"entropy.target": {"std": 0.005}})
    err = capsys.readouterr().err
    assert err.count("cannot reach its target") == 1 and "log_std_min" in err
    algo.learn()
    assert algo.logger.history[-1]["warn/entropy_unreachable/action"] == 1.0
    assert "cannot reach" not in capsys.readouterr().err  # once


def test_a_squashed_head_past_its_peak_is_reported_after_patience(capsys):
    # log(4) = 1.386 nats, a uniform action on Pendulum's [-2, 2], is the most there is; a
    # Gaussian squashed onto it peaks lower (1.376 at mean 0), where the actuator saturates
    algo = make("Pendulum-v1", **{"policy.squash": True, "entropy.target": {"nats": 1.45},
                                  "entropy.unreachable_patience": 2})
    assert capsys.readouterr().err == ""
    algo.learn()
    h = algo.logger.history
    assert [r["warn/entropy_unreachable/action"] for r in h] == [0.0] + [1.0] * 5
    err = capsys.readouterr().err
    assert err.count("cannot reach its target") == 1 and "squashed" in err, err


def test_a_pinned_coefficient_without_an_actuator_is_reported(capsys):
    """The issue's reproduction with the coefficient alone: it is pinned at its bound while the
    entropy lags the schedule, and now it says so."""
    cfg = thermorl.make_config("Pendulum-v1", **{
        "preset": "none", "seed": 0, "total_timesteps": 30_000, "entropy.mode": "learned",
        "entropy.target": STD_SCHEDULE, "entropy.actuator": "coef", "policy.log_std_init": 0.0,
        "eval.freq": 0, "eval.episodes": 1, "log.progress": "off", "log.tensorboard": False})
    algo = thermorl.PPO("Pendulum-v1", cfg).learn()
    err = capsys.readouterr().err
    assert err.count("cannot reach its target") == 1 and "coef_max" in err, err
    assert algo.logger.history[-1]["warn/entropy_unreachable/action"] == 1.0


@pytest.mark.parametrize("env_id,extra,tol", [
    ("Pendulum-v1", {"entropy.target": STD_SCHEDULE}, 1e-4),
    ("CartPole-v1", {"entropy.target": {"fraction": 0.2}}, 0.05),
    # masks that change with the state: each 64-sample minibatch has its own mean log(valid)
    ("spaces_envs:ThermorlSpaces/dict-mask-info-v0", {}, 0.1),
])
def test_reachable_targets_stay_quiet(env_id, extra, tol, capsys):
    algo = make(env_id, **{**extra, "entropy.unreachable_patience": 1}).learn()
    assert "cannot reach" not in capsys.readouterr().err
    for i, r in enumerate(algo.logger.history):
        assert not any(v for k, v in r.items() if k.startswith("warn/entropy_unreachable/"))
        # every head on target (tol of its scale) once a rollout has shown the states it sees;
        # before that, a categorical head is solved on the 2 envs' first observations only
        for h in algo.heads if i > 0 else ():
            c = algo.entropy.heads[h]
            assert abs(r[f"entropy/{h}"] - r[f"target_entropy/{h}"]) < tol * c.scale, (h, r)


def test_checkpoints_keep_the_warning_and_old_ones_still_load(tmp_path):
    algo = make("Pendulum-v1", **{"entropy.target": {"std": 0.005}})
    st = algo.entropy.state_dict()
    assert st["action"]["unreachable"] is True
    del st["action"]["unreachable"], st["action"]["unreach_updates"]  # as before this change
    algo.entropy.load_state_dict(st)
    assert algo.entropy.heads["action"].unreachable is False
    assert np.isfinite(algo.entropy.heads["action"].coef(0.0))


def test_parameterized_heads_are_held_where_they_are_used():
    """A parameter head's entropy counts only where its option was chosen; its actuator solves
    on those samples (autograd path), and a state-dependent std moves through its layer's bias."""
    env = "spaces_envs:ThermorlSpaces/parameterized-v0"
    algo = make(env, **{"policy.parameterized": {"kind": {0: "jump", 1: "run"}},
                        "policy.state_dependent_std": True,
                        "entropy.heads": {"jump": {"target": {"std": 0.2}},
                                          "run": {"target": {"std": 0.5}},
                                          "kind": {"target": {"fraction": 0.6}}}})
    assert not isinstance(algo.learner, FusedPPOLearner)
    algo.learn()
    for r in algo.logger.history[1:]:
        for h in ("jump", "run", "kind"):
            c = algo.entropy.heads[h]
            assert abs(r[f"entropy/{h}"] - r[f"target_entropy/{h}"]) < 0.05 * c.scale, (h, r)
    assert algo.logger.history[-1]["target_entropy/jump"] == pytest.approx(
        0.5 * math.log(2 * math.pi * math.e) + math.log(0.2))


def test_sac_with_the_actuator_lifts_entropy_to_a_min_target_the_temperature_cannot_reach():
    """A free log-std starts far below the target (std 0.02); in 500 gradient steps Adam moves it
    by at most 500 * lr = 0.15 whatever the temperature, the actuator lifts it at the first."""
    ends = {}
    for actuator in ("project", "auto"):
        cfg = thermorl.make_config("Pendulum-v1", algo="sac", **{
            "seed": 1, "total_timesteps": 600, "sac.learning_starts": 100, "sac.batch_size": 64,
            "sac.log_interval": 200, "entropy.actuator": actuator,
            "entropy.target": {"nats": 0.3}, "policy.state_dependent_std": False,
            "policy.log_std_init": -4.0, "eval.episodes": 1, "log.progress": "off",
            "log.tensorboard": False})
        algo = thermorl.SAC("Pendulum-v1", cfg)
        assert (algo.entropy.heads["action"].actuator is not None) == (actuator == "project")
        algo.learn()
        batch = algo.buffer.sample(256, torch.Generator().manual_seed(0))
        with torch.no_grad():  # the exact entropy of the squashed action, on replayed states
            ends[actuator] = float(algo.policy.dist(batch.obs).heads["action"].entropy().mean())
    assert ends["project"] >= 0.3 - 0.02, ends
    assert ends["auto"] < 0.3 - 1.0, ends  # SAC's default: the temperature alone
