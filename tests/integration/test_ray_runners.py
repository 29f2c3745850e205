"""runners.backend ray: PPO's rollouts from Ray actors, each a copy of the policy stepping its
share of the envs. Every Ray part runs as a subprocess in a loopback-only network namespace
(raynet.py); one Ray start serves several runs where it can, as a Ray start costs seconds.
That CartPole solves with 2 Ray runners in the preset's budget is checked by
test_docs_runners.py, which runs docs/runners.md's command as written."""

from __future__ import annotations

import dataclasses
import json
import secrets
import shlex
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest
import torch

import thermorl
from raynet import loopback, need_ray, ray_env, run_cli, run_python

FAST = ["--ppo.num_envs", "4", "--ppo.num_steps", "32", "--ppo.num_minibatches", "2",
        "--ppo.update_epochs", "2", "--eval.episodes", "2", "--log.progress", "off",
        "--runners.backend", "ray", "--runners.num", "2"]


def driver(body: str, timeout: float = 400) -> dict:
    """Run `body` (Python, with `run(env, **changes)` at hand) under one Ray start; it sets
    `out`, which comes back."""
    code = textwrap.dedent("""
        import json, os, signal
        import ray
        import thermorl
        import spaces_envs  # registers ThermorlSpaces/*
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False,
                 configure_logging=False)
        QUIET = {"log.progress": "off", "log.tensorboard": False, "eval.episodes": 2,
                 "runners.backend": "ray", "runners.num": 2}

        def run(env, callbacks=(), **changes):
            cfg = thermorl.make_config(env, **{**QUIET, **changes})
            algo = thermorl.PPO(env, cfg)
            rows = []

            class Keep(thermorl.Callback):
                def on_update_end(self, algo, metrics):
                    rows.append({k: v for k, v in metrics.items() if not k.startswith("perf/")})

            algo.learn(callbacks=[Keep(), *callbacks])
            return algo, rows
        out = {}
        """) + textwrap.dedent(body) + "\nprint('RESULT ' + json.dumps(out))\n"
    r = run_python(code, timeout)
    lines = [x for x in r.stdout.splitlines() if x.startswith("RESULT ")]
    assert r.returncode == 0 and lines, r.stderr[-3000:]
    return json.loads(lines[-1][len("RESULT "):])


def test_ray_runs_are_reproducible_and_train_every_kind():
    need_ray()
    out = driver("""
        small = {"total_timesteps": 512, "ppo.num_envs": 4, "ppo.num_steps": 32,
                 "ppo.num_minibatches": 2, "ppo.update_epochs": 2}
        a, rows_a = run("CartPole-v1", seed=5, **small)
        runners_pids = a.runners.pids()
        a.close()
        b, rows_b = run("CartPole-v1", seed=5, **small)
        b.close()
        c, rows_c = run("CartPole-v1", seed=6, **small)
        c.close()
        out["same_seed_equal"] = rows_a == rows_b
        out["other_seed_differs"] = rows_a != rows_c
        out["rows"] = len(rows_a)
        out["restarts"] = [r["runners/restarts"] for r in rows_a]
        out["pids"] = len(set(runners_pids + [os.getpid()]))
        out["step"] = a.global_step

        # observation normalization: what every runner saw is merged into the learner's
        # statistics, as many samples as a local run takes in
        p, rows_p = run("Pendulum-v1", **small, **{"ppo.norm_obs": True, "ppo.norm_reward": True})
        p.close()
        # runners.backend async, the same runners in worker processes of this machine: the same
        # run (Pendulum has no vector env of its own, so evaluations' envs are alike too)
        d, rows_d = run("Pendulum-v1", **small, **{"ppo.norm_obs": True, "ppo.norm_reward": True,
                                                   "runners.backend": "async"})
        d.close()
        out["async_equal"] = rows_d == rows_p and d.final_eval == p.final_eval
        out["async_rows"] = len(rows_d)
        lo, _ = run("Pendulum-v1", **small, **{"ppo.norm_obs": True, "ppo.norm_reward": True,
                                               "runners.backend": "local"})
        lo.close()
        out["obs_count"] = [p.obs_norm.rms.count, lo.obs_norm.rms.count]
        out["reward_count"] = [p.reward_scaler.rms.count, lo.reward_scaler.rms.count]

        # a recurrent policy (state carried across rollouts in the runners) and a composite
        # space whose masks come from the env's info
        r, rows_r = run("CartPole-v1", **{**small, "ppo.recurrent": "lstm", "ppo.seq_len": 8})
        r.close()
        m, rows_m = run("spaces_envs:ThermorlSpaces/dict-mask-info-v0", **small)
        m.close()
        out["recurrent_rows"], out["masked_rows"] = len(rows_r), len(rows_m)
        out["masked_finite"] = all(v == v for v in rows_m[-1].values())
    """)
    assert out["same_seed_equal"] and out["other_seed_differs"]
    assert out["async_equal"] and out["async_rows"] == 4
    assert out["rows"] == 4 and out["step"] == 512
    assert out["restarts"] == [0.0] * 4
    assert out["pids"] == 3  # two runner processes besides the learner's
    assert out["obs_count"][0] == pytest.approx(out["obs_count"][1])
    assert out["reward_count"][0] == pytest.approx(out["reward_count"][1])
    assert out["recurrent_rows"] == 4 and out["masked_rows"] == 4 and out["masked_finite"]


def test_a_killed_runner_is_restarted_and_counted():
    need_ray()
    out = driver("""
        class Kill(thermorl.Callback):
            def on_update_end(self, algo, metrics):
                if algo.updates == 2:
                    os.kill(algo.runners.pids()[1], signal.SIGKILL)

        a, rows = run("CartPole-v1", callbacks=[Kill()], total_timesteps=1024,
                      **{"ppo.num_envs": 4, "ppo.num_steps": 32, "ppo.num_minibatches": 2,
                         "ppo.update_epochs": 2})
        out["restarts"] = [r["runners/restarts"] for r in rows]
        out["step"] = a.global_step
        out["final"] = a.final_eval["mean_return"]
        a.close()
    """)
    assert out["step"] == 1024
    assert out["restarts"][:2] == [0.0, 0.0] and out["restarts"][-1] == 1.0
    assert out["final"] > 0


def test_ray_run_resumes_where_it_stopped(tmp_path):
    need_ray()
    run_dir = tmp_path / "run"
    r = run_cli(["train", "CartPole-v1", "--total-timesteps", "256", "--run-dir", str(run_dir),
                 *FAST], timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    r = run_cli(["train", "--resume", str(run_dir), "--total-timesteps", "512"], timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "at step 256" in r.stderr
    rows = (run_dir / "metrics.csv").read_text().splitlines()
    header = rows[0].split(",")
    steps = [int(row.split(",")[header.index("global_step")]) for row in rows[1:]]
    assert steps == [128, 256, 384, 512]
    assert "runners/restarts" in header
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["global_step"] == 512
    back = thermorl.PPO.load(run_dir)  # the checkpoint loads anywhere, without Ray
    assert back.config.runners.backend == "ray" and back.global_step == 512


def test_joins_a_ray_cluster_started_with_ray_start(tmp_path):
    need_ray()
    ray_cli = Path(sys.executable).with_name("ray")
    run_dir = tmp_path / "run"
    train = [sys.executable, "-m", "thermorl", "train", "CartPole-v1", "--total-timesteps",
             "256", "--run-dir", str(run_dir), *FAST, "--runners.address", "127.0.0.1:6391"]
    # the head's files in a dir of its own: `ray start` records its address there (in /tmp/ray
    # by default, where any later ray.init() on the machine would find it)
    temp = tempfile.mkdtemp(prefix="ray-", dir="/tmp")
    # stopped by ending its `--block` process: `ray stop` would stop every Ray on the machine
    wait_port = "import socket; socket.create_connection(('127.0.0.1', 6391), 1)"
    script = (f"{shlex.quote(str(ray_cli))} start --head --port 6391 --num-cpus 2 "
              f"--temp-dir {temp} --include-dashboard false --disable-usage-stats --block "
              f"> /dev/null 2>&1 & head=$!; "
              f"for i in $(seq 120); do {shlex.quote(sys.executable)} -c "
              f"{shlex.quote(wait_port)} 2>/dev/null && break; sleep 1; done; "
              f"{shlex.join(train)}; rc=$?; kill $head; wait $head; exit $rc")
    # the cluster's token, shared by its nodes and drivers (Ray's token authentication)
    token = ray_env(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(32))
    try:
        r = subprocess.run(loopback(["bash", "-c", script]), capture_output=True, text=True,
                           timeout=400, env=token)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    assert r.returncode == 0, r.stderr[-3000:]
    assert json.loads((run_dir / "summary.json").read_text())["global_step"] == 256


def test_without_ray_training_is_a_one_line_error_and_the_rest_works(monkeypatch, run_cli,
                                                                       tmp_path):
    monkeypatch.setitem(sys.modules, "ray", None)
    run_dir = tmp_path / "run"
    r = run_cli("train", "CartPole-v1", "--run-dir", run_dir, *FAST)
    assert r.rc == 2 and 'pip install -e ".[ray]"' in r.err
    assert r.err.strip().splitlines()[-1].startswith("thermorl: error: runners.backend ray")
    assert "Traceback" not in r.err and not (run_dir / "config.yaml").exists()
    # a Ray run's checkpoint evaluates without Ray (here: one made locally, then marked ray)
    cfg = thermorl.make_config("CartPole-v1", total_timesteps=128,
                               **{"ppo.num_envs": 4, "ppo.num_steps": 32,
                                  "log.progress": "off", "log.tensorboard": False})
    algo = thermorl.PPO("CartPole-v1", cfg).learn()
    algo.config = dataclasses.replace(
        cfg, runners=dataclasses.replace(cfg.runners, backend="ray"))
    back = thermorl.PPO.load(algo.save(tmp_path / "c.pt"))
    assert back.config.runners.backend == "ray"
    assert back.evaluate(episodes=2)["episodes"] == 2


@pytest.mark.parametrize("changes,match", [
    ({"algo": "sac"}, "accepted: local, async"),
    ({"runners.num": 9, "ppo.num_envs": 8}, "accepted: 1 to 8"),
])
def test_ray_config_errors(changes, match):
    with pytest.raises(thermorl.ConfigError, match=match):
        thermorl.make_config("CartPole-v1", **{"runners.backend": "ray", **changes})


def test_ctrl_c_to_the_whole_job_saves_and_stops_ray(it, tmp_path):
    """A terminal's Ctrl-C reaches every process of the job, Ray's too: the run saves a
    checkpoint, prints the resume command and exits 130, and no Ray process is left."""
    need_ray()
    run_dir = tmp_path / "run"
    cmd = loopback([sys.executable, "-m", "thermorl", "train", "CartPole-v1",
                    "--total-timesteps", "200000", "--run-dir", str(run_dir), *FAST,
                    "--eval.freq", "0", "--log.checkpoint_freq", "100000"])
    rc, _, err = it.ctrl_c_after_updates(cmd, ray_env(), run_dir, start_s=200, stop_s=120)
    assert rc == 130, err[-3000:]
    assert "Traceback" not in err and "resume with: thermorl train --resume" in err
    ck = torch.load(run_dir / "checkpoints" / "latest.pt", weights_only=True)
    assert ck["global_step"] > 0
