"""runners.backend async: each env in its own process, with results bitwise equal to local
runs (the same envs, seeded the same way, stepped in another place), for PPO and SAC, composite
spaces with masks, and a user's module:EnvId env."""

import sys

import pytest
import torch

import thermorl

QUIET = {"log.progress": "off", "log.tensorboard": False, "eval.episodes": 2}


def run(env, backend, **changes):
    cfg = thermorl.make_config(env, **{**QUIET, "runners.backend": backend, **changes})
    algo = (thermorl.SAC if cfg.algo == "sac" else thermorl.PPO)(env, cfg)
    rows = []

    class Keep(thermorl.Callback):
        def on_update_end(self, algo, metrics):
            rows.append({k: v for k, v in metrics.items() if not k.startswith("perf/")})

    algo.learn(callbacks=[Keep()])
    out = (rows, algo.final_eval["returns"], algo.global_step)
    algo.close()
    return out


@pytest.mark.parametrize("env,changes", [
    ("Pendulum-v1", {"total_timesteps": 1024, "ppo.num_envs": 2, "ppo.num_steps": 256,
                     "ppo.norm_obs": True, "ppo.norm_reward": True}),
    ("Pendulum-v1", {"algo": "sac", "total_timesteps": 300, "sac.learning_starts": 100}),
    ("spaces_envs:ThermorlSpaces/dict-mask-info-v0",
     {"total_timesteps": 256, "ppo.num_envs": 2, "ppo.num_steps": 64}),
    ("spaces_envs:ThermorlSpaces/dict-mask-obs-v0",
     {"total_timesteps": 256, "ppo.num_envs": 2, "ppo.num_steps": 64}),
])
def test_async_equals_local(env, changes):
    local = run(env, "local", **changes)
    remote = run(env, "async", **changes)
    assert local[2] == remote[2] and len(local[0]) == len(remote[0]) > 0
    assert local == remote


def test_async_slow_env_in_processes():
    """The built-in SlowCartPole (1 ms of CPU per step) under async: the envs are other
    processes, and training runs through them."""
    cfg = thermorl.make_config("thermorl/SlowCartPole-v0", total_timesteps=256,
                               **{**QUIET, "runners.backend": "async", "ppo.num_envs": 2,
                                  "ppo.num_steps": 64})
    algo = thermorl.PPO("thermorl/SlowCartPole-v0", cfg)
    assert type(algo.envs).__name__ == "AsyncVectorEnv" and len(algo.envs.processes) == 2
    algo.learn()
    assert algo.global_step >= 256
    algo.close()


def test_unknown_backend_is_a_one_line_error(run_cli, tmp_path):
    res = run_cli("train", "CartPole-v1", "--runners.backend", "threads", "--run-dir",
                  tmp_path / "r")
    assert res.rc == 2 and "runners.backend" in res.err and "local" in res.err
    assert "async" in res.err and len(res.err.strip().splitlines()) == 1


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_to_the_whole_job_still_saves(it, tmp_path):
    """A terminal's Ctrl-C reaches every process of the job, the env workers too: they ignore
    it, and the training process saves a checkpoint and exits 130 as in a local run."""
    run_dir = tmp_path / "run"
    cmd = [sys.executable, "-m", "thermorl.cli", "train", "--total-timesteps", "200000",
           "--run-dir", str(run_dir), *it.FAST, "--eval.freq", "0",
           "--runners.backend", "async", "--log.checkpoint_freq", "100000"]
    rc, out, err = it.ctrl_c_after_updates(cmd, it.subprocess_env(), run_dir)
    assert rc == 130, (out, err)
    assert "Traceback" not in err and "resume with: thermorl train --resume" in err
    ck = torch.load(run_dir / "checkpoints" / "latest.pt", weights_only=True)
    assert ck["global_step"] > 0
