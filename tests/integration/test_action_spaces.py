"""Every action-space kind trains, evaluates and checkpoints through `thermorl train`."""

import json

import math

import pytest

import thermorl

FAST = ["--total-timesteps", "256", "--ppo.num_envs", "2", "--ppo.num_steps", "64",
        "--ppo.num_minibatches", "2", "--ppo.update_epochs", "2", "--eval.episodes", "2",
        "--log.progress", "off"]
KINDS = ["discrete", "box", "multidiscrete", "multibinary", "dict", "tuple", "nested",
         "dict-mask-info", "dict-mask-obs", "discrete-mask-info", "discrete-mask-obs",
         "multidiscrete-mask-info"]


def train(run_cli, tmp_path, env, *extra):
    run = tmp_path / env.replace("/", "_")
    res = run_cli("train", f"spaces_envs:ThermorlSpaces/{env}-v0", "--run-dir", run, *FAST, *extra)
    return res, run


@pytest.mark.parametrize("kind", KINDS)
def test_every_space_kind_end_to_end(run_cli, tmp_path, kind):
    res, run = train(run_cli, tmp_path, kind)
    assert res.rc == 0, res.err
    header = (run / "metrics.csv").read_text().splitlines()[0].split(",")
    algo = thermorl.PPO.load(run, env=None)
    for head in algo.heads:
        assert f"entropy/{head}" in header and f"alpha/{head}" in header
    ev = run_cli("eval", run, "--json", "--episodes", "2", "--stochastic")
    assert ev.rc == 0, ev.err
    assert json.loads(ev.out)["episodes"] == 2


def test_head_names_for_composite_spaces():
    nested = thermorl.PPO("spaces_envs:ThermorlSpaces/nested-v0",
                          thermorl.make_config("spaces_envs:ThermorlSpaces/nested-v0"))
    assert list(nested.heads) == ["move/0", "move/1", "weapons/fire"]
    tup = thermorl.PPO("spaces_envs:ThermorlSpaces/tuple-v0",
                       thermorl.make_config("spaces_envs:ThermorlSpaces/tuple-v0"))
    assert list(tup.heads) == ["0", "1"]


def test_per_head_entropy_settings_reach_nested_heads(run_cli, tmp_path):
    res, run = train(run_cli, tmp_path, "nested", "--entropy.mode", "learned",
                     "--entropy.heads.weapons/fire.target", "{fraction: 0.3}",
                     "--entropy.heads.move/1.target", "{std: 0.4}")
    assert res.rc == 0, res.err
    algo = thermorl.PPO.load(run)
    assert algo.entropy.heads["weapons/fire"].target(0.0) == pytest.approx(0.3 * 2 * 0.6931, 1e-3)


def test_parameterized_and_squashed(run_cli, tmp_path):
    res, run = train(run_cli, tmp_path, "parameterized", "--policy.parameterized",
                     "{kind: {0: jump, 1: run}}", "--policy.squash", "true")
    assert res.rc == 0, res.err
    algo = thermorl.PPO.load(run)
    assert algo.used_when == {"jump": ("kind", 0), "run": ("kind", 1)}
    assert all(algo.heads[h].squash for h in ("jump", "run"))


@pytest.mark.parametrize("decl,match", [
    ("{kind: {0: nope}}", "'nope' is not another head"),
    ("{jump: {0: run}}", "selector must be a Discrete head"),
    ("{kind: {5: run}}", r"option 5 is outside the selector's 0..1"),
])
def test_bad_parameterized_declarations(run_cli, tmp_path, decl, match):
    res, _ = train(run_cli, tmp_path, "parameterized", "--policy.parameterized", decl)
    assert res.rc == 2 and match in res.err and len(res.err.strip().splitlines()) == 1


def test_mask_of_wrong_shape_names_head_and_shapes(run_cli, tmp_path):
    res, _ = train(run_cli, tmp_path, "dict-mask-bad_shape")
    assert res.rc == 2
    assert "action_mask for head 'fire' has shape (3,) per env" in res.err
    assert "expected (2,)" in res.err


def test_all_invalid_mask_names_head_and_step(run_cli, tmp_path):
    res, _ = train(run_cli, tmp_path, "dict-mask-empty")
    assert res.rc == 2
    assert "action_mask for head 'fire' allows no action in env 0 at global step" in res.err


def test_masked_fraction_target_uses_valid_actions(tmp_path):
    env = "spaces_envs:ThermorlSpaces/discrete-mask-info-v0"
    cfg = thermorl.make_config(env, **{"entropy.mode": "learned", "entropy.target":
                                       {"fraction": 1.0}, "total_timesteps": 256,
                                       "ppo.num_envs": 2, "ppo.num_steps": 64,
                                       "ppo.num_minibatches": 2, "log.progress": "off"})
    algo = thermorl.PPO(env, cfg).learn()
    # one action of three is always masked and another every other step: 2 or 1 valid actions,
    # so the target is about (log 2 + log 1) / 2, far from log 3
    t = algo.logger.latest["target_entropy/action"]
    assert abs(t - 0.5 * math.log(2)) < 0.1, t
