"""`thermorl train --algo sac` end to end on a few hundred steps: the run directory, eval,
resume (with the replay buffer), plot, and one-line errors; every action-space kind."""

from __future__ import annotations

import json
import math

import pytest

import thermorl
from thermorl import checkpoint

FAST_SAC = ["--algo", "sac", "--policy.hidden_sizes", "[32, 32]", "--sac.learning_starts", "64",
            "--sac.batch_size", "32", "--sac.log_interval", "100", "--eval.episodes", "2",
            "--log.progress", "off"]
COLUMNS = ["loss/policy", "loss/value", "entropy/action", "alpha/action",
           "target_entropy/action", "diag/q_mean", "perf/sps"]


def test_train_eval_resume_plot(run_cli, it, tmp_path):
    run_dir = tmp_path / "run"
    r = run_cli("train", "Pendulum-v1", "--total-timesteps", "300", "--run-dir", run_dir,
                "--sac.save_replay_buffer", "true", *FAST_SAC)
    assert r.rc == 0, r
    assert "sac on Pendulum-v1" in r.err and "preset sac/Pendulum-v1" in r.err
    assert "final eval: mean return" in r.out
    header, rows = it.read_metrics(run_dir)
    assert [int(x["global_step"]) for x in rows] == [100, 200, 300]
    assert all(c in header for c in COLUMNS), header
    for col in COLUMNS:
        assert math.isfinite(float(rows[-1][col])), col
    summary = it.read_summary(run_dir)
    assert summary["algo"] == "sac" and summary["global_step"] == 300
    ckpt = checkpoint.load(run_dir / "checkpoints" / "latest.pt")
    assert ckpt["algo"] == "sac" and ckpt["replay"]["size"] == 299  # step 201 only reset the env

    r = run_cli("eval", run_dir, "--episodes", "2", "--json")
    assert r.rc == 0, r
    assert json.loads(r.out)["episodes"] == 2

    r = run_cli("train", "--resume", run_dir, "--total-timesteps", "500")
    assert r.rc == 0, r
    assert "at step 300" in r.err
    _, rows = it.read_metrics(run_dir)
    assert [int(x["global_step"]) for x in rows] == [100, 200, 300, 400, 500]
    assert checkpoint.load(run_dir / "checkpoints" / "latest.pt")["replay"]["size"] == 499

    r = run_cli("plot", run_dir, "-o", tmp_path / "p.png")
    assert r.rc == 0, r
    assert (tmp_path / "p.png").stat().st_size > 0


@pytest.mark.parametrize("kind", ["discrete", "box", "multidiscrete", "multibinary", "dict",
                                  "tuple", "nested", "dict-mask-info", "multidiscrete-mask-obs"])
def test_every_action_space_kind_trains(run_cli, it, tmp_path, kind):
    run_dir = tmp_path / "run"
    r = run_cli("train", f"spaces_envs:ThermorlSpaces/{kind}-v0", "--total-timesteps", "160",
                "--run-dir", run_dir, *FAST_SAC)
    assert r.rc == 0, r
    header, rows = it.read_metrics(run_dir)
    heads = [c.split("/", 1)[1] for c in header if c.startswith("alpha/")]
    assert heads
    for h in heads:
        assert math.isfinite(float(rows[-1][f"alpha/{h}"])), h
        assert math.isfinite(float(rows[-1][f"entropy/{h}"])), h
    r = run_cli("eval", run_dir, "--episodes", "2", "--stochastic")
    assert r.rc == 0, r


def test_parameterized_heads_are_refused(run_cli, tmp_path):
    r = run_cli("train", "spaces_envs:ThermorlSpaces/parameterized-v0", "--run-dir",
                tmp_path / "r", "--policy.parameterized", "{kind: {0: jump, 1: run}}", *FAST_SAC)
    assert r.rc == 2, r
    assert "SAC does not support parameterized action heads" in r.err


def test_masked_hybrid_env_trains():
    env = "thermorl/HybridIdentity-v0"
    cfg = thermorl.make_config(env, algo="sac", total_timesteps=200, **{
        "env_kwargs": {"mask_invalid": True}, "policy.hidden_sizes": [16],
        "sac.learning_starts": 50, "eval.episodes": 2, "log.progress": "off"})
    algo = thermorl.SAC(env, cfg).learn()
    assert "choice" in algo.buffer.action_masks
    assert not algo.buffer.action_masks["choice"][:len(algo.buffer)].all()


@pytest.mark.parametrize("args,match", [
    (["--ppo.num_envs", "4"], "ppo.num_envs=4 is a PPO setting, but algo is sac"),
    (["--sac.tau", "2"], "sac.tau: expected a number > 0 and <= 1, got 2"),
    (["--policy.squash", "false"], "policy.squash=false: SAC acts through tanh"),
])
def test_bad_input_is_one_line(run_cli, tmp_path, args, match):
    r = run_cli("train", "Pendulum-v1", "--algo", "sac", "--run-dir", tmp_path / "r", *args)
    assert r.rc == 2, r
    assert match in r.err and len(r.err.strip().splitlines()) == 1
