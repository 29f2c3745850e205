"""Resuming a run from its checkpoint, on the command line and through the Python API."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import yaml

import thermorl
from thermorl import checkpoint


def test_cli_resume_continues_the_run(run_cli, it, tmp_path):
    run_dir = tmp_path / "run"
    r = run_cli("train", "--total-timesteps", "256", "--run-dir", run_dir, *it.FAST)
    assert r.rc == 0, r
    assert it.read_summary(run_dir)["global_step"] == 256
    _, rows_before = it.read_metrics(run_dir)

    r = run_cli("train", "--resume", run_dir, "--total-timesteps", "640")
    assert r.rc == 0, r
    assert "resuming" in r.err and "at step 256" in r.err
    summary = it.read_summary(run_dir)
    assert summary["global_step"] >= 640
    assert summary["updates"] == 5

    header, rows = it.read_metrics(run_dir)
    steps = [int(row["global_step"]) for row in rows]
    assert steps == [128, 256, 384, 512, 640]  # appended: no restart at 0, nothing repeated
    assert rows[:2] == [{k: row.get(k, "") for k in header} for row in rows_before]
    assert all(row["loss/value"] != "" for row in rows[2:])

    latest = checkpoint.load(run_dir / "checkpoints" / "latest.pt")
    assert latest["global_step"] == 640 and latest["updates"] == 5
    cfg = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert cfg["ppo"]["num_envs"] == 2 and cfg["ppo"]["num_steps"] == 64  # kept from the run
    assert cfg["total_timesteps"] == 640

    # the annealed learning rate (preset) continued from update 3 of the new 5, not from 1
    lr = [float(row["diag/learning_rate"]) for row in rows]
    assert lr == pytest.approx([1e-3, 5e-4, 6e-4, 4e-4, 2e-4])


def test_cli_resume_refuses_a_run_dir_that_holds_a_run(run_cli, it, cartpole_run):
    r = run_cli("train", "--run-dir", cartpole_run, "--total-timesteps", "256", *it.FAST)
    assert r.rc == 2
    assert f"thermorl train --resume {cartpole_run}" in r.err


def _equal_nested(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal_nested(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_equal_nested(x, y) for x, y in zip(a, b))
    return a == b


def test_checkpoint_round_trip_restores_state_exactly(it, tmp_path):
    cfg = thermorl.make_config("CartPole-v1", total_timesteps=384, seed=3, **it.FAST_DOTTED,
                               **{"ppo.norm_obs": True, "log.tensorboard": False})
    algo = thermorl.PPO("CartPole-v1", cfg).learn()
    path = algo.save(tmp_path / "c.pt")
    back = thermorl.PPO.load(path)

    assert back.config == algo.config
    assert (back.global_step, back.updates) == (algo.global_step, algo.updates) == (384, 3)
    # policy weights
    sa, sb = algo.policy.state_dict(), back.policy.state_dict()
    assert sa.keys() == sb.keys()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    # optimizer: Adam's moments and step counts, and the param groups (lr included)
    oa, ob = algo.learner.optimizer.state_dict(), back.learner.optimizer.state_dict()
    assert oa["state"], "the optimizer has no state: nothing was tested"
    assert _equal_nested(oa["state"], ob["state"])
    assert _equal_nested(oa["param_groups"], ob["param_groups"])
    # observation normalizer: non-trivial statistics, restored bit for bit
    ra, rb = algo.obs_norm.rms, back.obs_norm.rms
    assert ra.count > 100 and np.abs(ra.mean).max() > 0
    assert np.array_equal(ra.mean, rb.mean) and np.array_equal(ra.var, rb.var)
    assert ra.count == rb.count
    # the run's random generators
    assert torch.equal(algo.sample_gen.get_state(), back.sample_gen.get_state())
    assert torch.equal(algo.shuffle_gen.get_state(), back.shuffle_gen.get_state())
    assert list(back.collector.recent_returns) == list(algo.collector.recent_returns)

    # so the two act identically on raw observations (normalized the same way)
    obs = np.random.default_rng(0).normal(size=(16, 4)).astype(np.float32)
    assert np.array_equal(algo.predict(obs), back.predict(obs))

    # and the loaded one trains on
    back.learn(total_timesteps=512)
    assert back.global_step == 512 and back.updates == 4


def test_norm_reward_run_checkpoints_and_round_trips(run_cli, it, tmp_path):
    run_dir = tmp_path / "run"
    rc = run_cli("train", "--total-timesteps", "256", "--run-dir", run_dir, *it.FAST,
                 "--ppo.norm_reward", "true").rc
    assert rc == 0
    algo = thermorl.PPO.load(run_dir)
    back = thermorl.PPO.load(algo.save(tmp_path / "again.pt"))
    assert algo.reward_scaler.rms.count > 100
    assert np.array_equal(algo.reward_scaler.rms.var, back.reward_scaler.rms.var)
    assert np.array_equal(algo.reward_scaler.ret, back.reward_scaler.ret)
