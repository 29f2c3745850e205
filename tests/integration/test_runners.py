"""runners.backend async. PPO: runners.num worker processes, each stepping its share of the envs
with a copy of the policy (the Ray runners' design, without Ray): reproducible, every kind of
policy and space, observation statistics merged, a killed worker restarted and counted, resume,
NaN and Ctrl-C as in a local run. SAC: each env in its own process (AsyncVectorEnv), with
results bitwise equal to a local run. That async and ray give the same numbers is checked in
test_ray_runners.py, where Ray can start."""

import os
import signal
import sys

import gymnasium as gym
import numpy as np
import pytest
import torch

import envs_for_tests
import thermorl
from thermorl.errors import ConfigError, TrainingDiverged

QUIET = {"log.progress": "off", "log.tensorboard": False, "eval.episodes": 2}
SMALL = {"total_timesteps": 512, "ppo.num_envs": 4, "ppo.num_steps": 32,
         "ppo.num_minibatches": 2, "ppo.update_epochs": 2}


def run(env, backend, callbacks=(), keep=False, **changes):
    cfg = thermorl.make_config(env, **{**QUIET, "runners.backend": backend, **changes})
    algo = (thermorl.SAC if cfg.algo == "sac" else thermorl.PPO)(env, cfg)
    rows = []

    class Keep(thermorl.Callback):
        def on_update_end(self, algo, metrics):
            rows.append({k: v for k, v in metrics.items() if not k.startswith("perf/")})

    algo.learn(callbacks=[Keep(), *callbacks])
    out = (rows, algo.final_eval["returns"], algo.global_step)
    if keep:
        return algo, out
    algo.close()
    return out


@pytest.mark.parametrize("env,changes", [
    ("Pendulum-v1", {"algo": "sac", "total_timesteps": 300, "sac.learning_starts": 100}),
    ("spaces_envs:ThermorlSpaces/dict-mask-info-v0",
     {"algo": "sac", "total_timesteps": 200, "sac.learning_starts": 100}),
])
def test_sac_async_equals_local(env, changes):
    local = run(env, "local", **changes)
    remote = run(env, "async", **changes)
    assert local[2] == remote[2] and len(local[0]) == len(remote[0]) > 0
    assert local == remote


def test_sac_async_steps_each_env_in_its_own_process():
    cfg = thermorl.make_config("thermorl/SlowCartPole-v0", algo="sac",
                               **{**QUIET, "runners.backend": "async", "sac.num_envs": 2})
    algo = thermorl.SAC("thermorl/SlowCartPole-v0", cfg)
    assert type(algo.envs).__name__ == "AsyncVectorEnv" and len(algo.envs.processes) == 2
    algo.close()


def test_ppo_async_runners_are_processes_and_runs_are_reproducible():
    algo, a = run("thermorl/SlowCartPole-v0", "async", keep=True, seed=5,
                  env_kwargs={"step_cost": 0.0002}, **SMALL)
    pids = algo.runners.pids()
    assert len(pids) == 2 and os.getpid() not in pids and len(set(pids)) == 2
    assert algo.runners.shares == [2, 2]
    assert a[2] == 512 and len(a[0]) == 4
    assert [r["runners/restarts"] for r in a[0]] == [0.0] * 4
    assert algo.envs.num_envs == 1  # the learner keeps one env, for its spaces
    algo.close()
    b = run("thermorl/SlowCartPole-v0", "async", seed=5, env_kwargs={"step_cost": 0.0002},
            **SMALL)
    c = run("thermorl/SlowCartPole-v0", "async", seed=6, env_kwargs={"step_cost": 0.0002},
            **SMALL)
    assert a == b and a != c


def test_ppo_async_every_kind_of_policy_and_space():
    # observation and reward normalization: the runners' statistics are merged into the
    # learner's, as many samples as a local run takes in
    p, _ = run("Pendulum-v1", "async", keep=True, **SMALL,
               **{"ppo.norm_obs": True, "ppo.norm_reward": True})
    lo, _ = run("Pendulum-v1", "local", keep=True, **SMALL,
                **{"ppo.norm_obs": True, "ppo.norm_reward": True})
    assert p.obs_norm.rms.count == pytest.approx(lo.obs_norm.rms.count)
    assert p.reward_scaler.rms.count == pytest.approx(lo.reward_scaler.rms.count)
    assert not np.array_equal(p.obs_norm.rms.mean, lo.obs_norm.rms.mean)  # saw other steps
    p.close()
    lo.close()
    # a recurrent policy carries its state across rollouts in the runners; masks from info and
    # from the observation; 3 runners over 4 envs (shares 2, 1, 1)
    for env, changes in [("CartPole-v1", {"ppo.recurrent": "lstm", "ppo.seq_len": 8}),
                         ("spaces_envs:ThermorlSpaces/dict-mask-info-v0", {}),
                         ("spaces_envs:ThermorlSpaces/dict-mask-obs-v0", {"runners.num": 3})]:
        rows, returns, step = run(env, "async", **{**SMALL, **changes})
        assert step == 512 and len(rows) == 4, env
        assert all(v == v for v in rows[-1].values()), env  # no NaN anywhere


def test_a_killed_runner_process_is_restarted_and_counted():
    class Kill(thermorl.Callback):
        def on_update_end(self, algo, metrics):
            if algo.updates == 2:
                os.kill(algo.runners.pids()[1], signal.SIGKILL)

    rows, returns, step = run("CartPole-v1", "async", callbacks=[Kill()],
                              **{**SMALL, "total_timesteps": 1024})
    restarts = [r["runners/restarts"] for r in rows]
    assert step == 1024 and len(rows) == 8
    assert restarts[:2] == [0.0, 0.0] and restarts[2:] == [1.0] * 6
    assert len(returns) == 2


def test_ppo_async_resumes_where_it_stopped(run_cli, it, tmp_path):
    run_dir = tmp_path / "run"
    args = [*it.FAST, "--ppo.num_envs", "4", "--runners.backend", "async"]
    r = run_cli("train", "CartPole-v1", "--total-timesteps", "512", "--run-dir", run_dir, *args)
    assert r.rc == 0, r
    r = run_cli("train", "--resume", run_dir, "--total-timesteps", "1024")
    assert r.rc == 0, r
    assert "at step 512" in r.err
    header, rows = it.read_metrics(run_dir)
    assert [int(row["global_step"]) for row in rows] == [256, 512, 768, 1024]
    assert "runners/restarts" in header
    assert it.read_summary(run_dir)["global_step"] == 1024


def test_a_nan_in_a_runner_stops_the_run_naming_the_global_step():
    cfg = thermorl.make_config(f"envs_for_tests:{envs_for_tests.NAN_ID}", total_timesteps=1000,
                               **{**QUIET, "runners.backend": "async", "ppo.num_envs": 2,
                                  "ppo.num_steps": 16, "ppo.num_minibatches": 2,
                                  "eval.freq": 0})
    algo = thermorl.PPO(cfg.env_id, cfg)
    nan_step = envs_for_tests.NAN_AFTER * 2  # every env's 40th step, as in a local run
    with pytest.raises(TrainingDiverged, match=f"observation .* global step {nan_step};"):
        algo.learn()
    assert algo.global_step == nan_step // 32 * 32  # the rollouts before it were trained on
    algo.close()


def test_runner_errors_are_one_line():
    with pytest.raises(ConfigError, match=r"runners.num=3 is more runners than "
                                          r"ppo.num_envs=2.*accepted: 1 to 2, or ppo.num_envs of 3 "
                                          r"or more"):
        thermorl.make_config("CartPole-v1", **{"runners.backend": "async", "runners.num": 3,
                                               "ppo.num_envs": 2})
    # an env that cannot be made fails in the training process, before any worker starts
    with pytest.raises(thermorl.errors.EnvError, match="NoSuchEnv"):
        thermorl.PPO("NoSuchEnv-v0", thermorl.make_config(
            "CartPole-v1", **{"runners.backend": "async"}))


def cartpole_but_not_in_a_runner():
    import multiprocessing as mp

    if mp.current_process().name.startswith("thermorl-runner"):
        os._exit(3)
    return gym.make("CartPole-v1")


def test_a_runner_that_dies_while_starting_is_a_clear_error():
    cfg = thermorl.make_config("CartPole-v1", total_timesteps=256,
                               **{**QUIET, "runners.backend": "async", "ppo.num_envs": 2,
                                  "ppo.num_steps": 64})
    with thermorl.PPO(cartpole_but_not_in_a_runner, cfg) as algo:
        with pytest.raises(thermorl.errors.ThermorlError,
                           match=r"runner 0's process ended while it started \(exit code 3\)"):
            algo.learn()


@pytest.mark.parametrize("algo", ["ppo", "sac"])
def test_a_script_that_never_closes_its_algorithm_still_exits(it, algo):
    """Env and runner processes ignore SIGTERM, which is how multiprocessing ends its daemons at
    exit; an algorithm left open is closed at exit instead (this waited for ever before)."""
    import subprocess

    own = ({"ppo.num_envs": 2, "ppo.num_steps": 64} if algo == "ppo"
           else {"sac.num_envs": 2, "sac.learning_starts": 64})
    changes = {"runners.backend": "async", "log.progress": "off", "log.tensorboard": False,
               "eval.episodes": 2, **own}
    code = (f"import thermorl\n"
            f"cfg = thermorl.make_config('Pendulum-v1', algo='{algo}', total_timesteps=256, "
            f"**{changes!r})\n"
            f"algo = thermorl.{algo.upper()}('Pendulum-v1', cfg)\n"
            f"algo.learn()\n"
            f"print('trained', algo.global_step)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=120, env=it.subprocess_env())
    assert r.returncode == 0 and "trained 256" in r.stdout, r.stderr[-2000:]


def test_unknown_backend_is_a_one_line_error(run_cli, tmp_path):
    res = run_cli("train", "CartPole-v1", "--runners.backend", "threads", "--run-dir",
                  tmp_path / "r")
    assert res.rc == 2 and "runners.backend" in res.err and "local" in res.err
    assert "async" in res.err and len(res.err.strip().splitlines()) == 1


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_to_the_whole_job_still_saves(it, tmp_path):
    """A terminal's Ctrl-C reaches every process of the job, the runner processes too: they
    ignore it, and the training process saves a checkpoint and exits 130 as in a local run."""
    run_dir = tmp_path / "run"
    cmd = [sys.executable, "-m", "thermorl.cli", "train", "--total-timesteps", "200000",
           "--run-dir", str(run_dir), *it.FAST, "--eval.freq", "0",
           "--runners.backend", "async", "--log.checkpoint_freq", "100000"]
    rc, out, err = it.ctrl_c_after_updates(cmd, it.subprocess_env(), run_dir)
    assert rc == 130, (out, err)
    assert "Traceback" not in err and "resume with: thermorl train --resume" in err
    ck = torch.load(run_dir / "checkpoints" / "latest.pt", weights_only=True)
    assert ck["global_step"] > 0
