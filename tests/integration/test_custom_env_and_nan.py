"""`module:EnvId` envs, and runs that stop on a NaN in an observation or a loss term."""

from __future__ import annotations

import json

import pytest
import torch
import yaml

import envs_for_tests
import thermorl
from thermorl import checkpoint
from thermorl.errors import TrainingDiverged
from thermorl.learners import FusedPPOLearner

TINY = f"envs_for_tests:{envs_for_tests.TINY_ID}"
NAN = f"envs_for_tests:{envs_for_tests.NAN_ID}"


def test_test_env_module_is_importable_from_the_test_dir():
    # the CLI imports the module part of module:EnvId by name
    assert envs_for_tests.__file__.endswith("tests/integration/envs_for_tests.py")


def test_train_and_eval_on_a_module_env(run_cli, it, tmp_path):
    run_dir = tmp_path / "run"
    r = run_cli("train", TINY, "--total-timesteps", "256", "--run-dir", run_dir, *it.FAST)
    assert r.rc == 0, r
    cfg = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert cfg["env_id"] == TINY and cfg["preset"] == "general"
    summary = it.read_summary(run_dir)
    assert summary["global_step"] == 256
    assert 0 <= summary["final_eval"]["mean_return"] <= 16  # reward <= 1 a step, 16 steps
    assert summary["final_eval"]["mean_length"] == 16
    r = run_cli("eval", run_dir, "--json", "--episodes", "2")
    assert r.rc == 0, r
    assert json.loads(r.out)["episodes"] == 2


def test_nan_observation_stops_the_run_and_keeps_the_last_checkpoint(run_cli, tmp_path):
    run_dir = tmp_path / "run"
    num_envs, num_steps = 2, 16
    r = run_cli("train", NAN, "--run-dir", run_dir, "--total-timesteps", "1000",
                "--ppo.num_envs", num_envs, "--ppo.num_steps", num_steps,
                "--ppo.num_minibatches", "2", "--ppo.update_epochs", "1",
                "--log.checkpoint_freq", "1", "--eval.freq", "0", "--log.progress", "off")
    assert r.rc == 1, r
    assert "Traceback" not in r.err and "Traceback" not in r.out
    last = r.err.splitlines()[-1]
    nan_step = envs_for_tests.NAN_AFTER * num_envs  # every env returns NaN at its 40th step
    assert last.startswith("thermorl: stopped: "), r.err
    assert "observation" in last and f"global step {nan_step}" in last, last
    assert "latest.pt" in last  # it points at the last good checkpoint
    assert not (run_dir / "summary.json").exists()

    # the checkpoint of the last full update before the NaN is intact and loads
    batch = num_envs * num_steps
    good = nan_step // batch * batch
    assert good > 0
    raw = torch.load(run_dir / "checkpoints" / "latest.pt", weights_only=True)
    assert raw["global_step"] == good
    algo = thermorl.PPO.load(run_dir)
    assert algo.global_step == good
    assert all(torch.isfinite(p).all() for p in algo.policy.parameters())


@pytest.mark.parametrize("fused", [True, False])
def test_nan_loss_term_is_named(monkeypatch, run_cli, it, tmp_path, fused):
    def nan_value_loss(value, *args, **kwargs):
        return value.sum() * float("nan")

    def nan_value_error_terms(value, *args, **kwargs):  # the fused path's error and gradient
        return value * float("nan"), value * float("nan")

    monkeypatch.setattr("thermorl.learners.ppo.value_loss", nan_value_loss)
    monkeypatch.setattr("thermorl.learners.ppo_fused.value_error_terms", nan_value_error_terms)

    cfg = thermorl.make_config("CartPole-v1", total_timesteps=256, **it.FAST_DOTTED,
                               **{"ppo.fused": fused})
    assert (isinstance(thermorl.PPO("CartPole-v1", cfg).learner, FusedPPOLearner)) == fused
    algo = thermorl.PPO("CartPole-v1", cfg, run_dir=tmp_path / "api")
    before = {k: v.clone() for k, v in algo.policy.state_dict().items()}
    with pytest.raises(TrainingDiverged, match=r"loss/value became nan at global step 128") as e:
        algo.learn()
    assert "no checkpoint had been saved yet" in str(e.value)
    after = algo.policy.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # no step taken on the NaN

    r = run_cli("train", "--total-timesteps", "256", "--run-dir", tmp_path / "cli", *it.FAST)
    assert r.rc == 1, r
    assert "Traceback" not in r.err
    assert r.err.splitlines()[-1].startswith("thermorl: stopped: loss/value became nan")
    assert not (tmp_path / "cli" / "checkpoints" / "latest.pt").exists()
    with pytest.raises(thermorl.ThermorlError):
        checkpoint.find(tmp_path / "cli")
