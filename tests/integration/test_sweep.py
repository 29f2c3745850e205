"""`thermorl sweep`: a real tiny sweep on Ray Tune (in a loopback-only namespace), each trial a
normal run directory that `thermorl compare` reads; run again, it skips what is finished; a
failing trial does not stop the others; the errors a user can make, and a missing Ray."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import raynet
import yaml
from test_cli_errors import assert_one_line_error

FAST = ["--ppo.num_envs", "2", "--ppo.num_steps", "64", "--ppo.num_minibatches", "2",
        "--ppo.update_epochs", "2", "--eval.episodes", "2", "--log.progress", "off"]


def test_missing_ray_is_one_line_naming_the_extra(run_cli, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if the extra were not installed
    r = run_cli("sweep", "--seeds", "2", "--grid", "ppo.learning_rate=3e-4,1e-3", "--out", "o")
    assert_one_line_error(r, "Ray Tune", 'pip install -e ".[ray]"')


@pytest.mark.parametrize("args, needles", [
    (["--seeds", "0"], ["--seeds", "got 0"]),
    (["--seeds", "2", "--grid", "seed=1,2"], ["--grid seed", "--seeds N"]),
    (["--seeds", "2", "--grid", "ppo.learnin_rate=1e-3"], ["did you mean ppo.learning_rate"]),
    (["--seeds", "2", "--grid", "ppo.learning_rate="], ["empty value"]),
    (["--seeds", "2", "--grid", "ppo.learning_rate=1e-3,abc"],
     ["ppo.learning_rate=abc", "expected a number"]),
    (["--seeds", "2", "--seed", "3"], ["--seed", "--seeds N"]),
    (["--seeds", "2", "--run-dir", "x"], ["unknown option '--run-dir'"]),
    (["--seeds", "2", "--max-concurrent", "0"], ["--max-concurrent"]),
    (["CartPol-v1", "--seeds", "2"], ["did you mean CartPole-v1"]),
    (["--grid", "ppo.learning_rate=1e-3"], ["--seeds"]),
])
def test_bad_input_is_one_line(run_cli, tmp_path, args, needles):
    raynet.need_ray()
    r = run_cli("sweep", *args, *([] if "--out" in args else ["--out", tmp_path / "o"]))
    assert_one_line_error(r, *needles)
    assert not (tmp_path / "o").exists()  # nothing written, no Ray started


def test_tiny_sweep_writes_run_directories_that_compare_reads(tmp_path):
    raynet.need_ray()
    out = tmp_path / "sweep"
    args = ["sweep", "CartPole-v1", "--total-timesteps", "256", *FAST, "--seeds", "2",
            "--grid", "ppo.learning_rate=3e-4,1e-3", "--out", str(out)]
    r = raynet.run_cli(args, timeout=240)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "2 configurations x 2 seeds = 4 trials" in r.stderr
    assert r.stdout.splitlines()[0].startswith("configuration")  # compare's table at the end
    for lr in ("0.0003", "0.001"):
        for seed in (1, 2):
            d = out / f"ppo.learning_rate={lr}" / f"seed-{seed}"
            cfg = yaml.safe_load((d / "config.yaml").read_text())
            assert (cfg["ppo"]["learning_rate"], cfg["seed"]) == (float(lr), seed)
            assert cfg["total_timesteps"] == 256 and cfg["torch_threads"] == 1
            assert (d / "metrics.csv").is_file() and (d / "checkpoints" / "latest.pt").is_file()
            summary = json.loads((d / "summary.json").read_text())
            assert summary["global_step"] == 256
    # the seeds differ: the same learning rate's two runs did not train alike
    a, b = ((out / "ppo.learning_rate=0.001" / s / "metrics.csv").read_text()
            for s in ("seed-1", "seed-2"))
    assert a != b
    res = json.loads(raynet.run_cli(["compare", str(out), "--json"], timeout=60).stdout)
    assert [(c["name"], c["runs"]) for c in res["configurations"]] == [
        ("ppo.learning_rate=0.0003", 2), ("ppo.learning_rate=0.001", 2)]
    # the same sweep again: every trial finished, so nothing runs and Ray is not started
    again = raynet.run_cli(args, timeout=60)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "4 finished already (skipped)" in again.stderr
    assert "running" not in again.stderr
    assert again.stdout == r.stdout


def test_a_failing_trial_is_reported_and_the_others_finish(tmp_path):
    """One configuration's env returns a NaN observation after 40 steps; that trial stops as a
    diverged run does, the other finishes, and the sweep exits 1 naming the failed trial."""
    raynet.need_ray()
    out = tmp_path / "sweep"
    r = raynet.run_cli(["sweep", "envs_for_tests:ThermorlTest/Sign-v0", "--total-timesteps",
                        "256", *FAST, "--seeds", "1", "--grid", "env_kwargs.nan_after=null,40",
                        "--out", str(out)], timeout=240)
    assert r.returncode == 1, r.stderr[-3000:]
    assert "1 of 2 trials did not finish" in r.stderr
    assert "env_kwargs.nan_after=40/seed-1: " in r.stderr and "NaN" in r.stderr
    assert (out / "env_kwargs.nan_after=null" / "seed-1" / "summary.json").is_file()
    assert not (out / "env_kwargs.nan_after=40" / "seed-1" / "summary.json").exists()
    table = r.stdout.splitlines()  # the finished trials' table: one configuration, one run
    assert table[0].startswith("configuration") and table[1].split()[-6] == "1"


@pytest.mark.slow  # a Ray head of its own, then a sweep joining it: about a minute
def test_sweep_joins_a_cluster_started_with_ray_start(tmp_path):
    """`ray start --head` in the namespace, `thermorl sweep --address` joins it; token
    authentication off on both sides (a fresh CI machine has no token; docs/sweep.md says
    how to join a cluster that uses one)."""
    raynet.need_ray()
    ray_cli = str(Path(sys.executable).with_name("ray"))
    sweep = [sys.executable, "-m", "thermorl", "sweep", "CartPole-v1", "--total-timesteps", "256",
             *FAST, "--seeds", "1", "--grid", "ppo.learning_rate=3e-4,1e-3",
             "--out", str(tmp_path / "out"), "--address", "127.0.0.1:6390"]
    # The head's files in a temp dir of its own: `ray start` records its address there (in
    # /tmp/ray by default, where every later ray.init() on the machine would find it), and
    # Ray's socket paths must stay short.
    temp = tempfile.mkdtemp(prefix="ray-", dir="/tmp")
    script = (f"{shlex.quote(ray_cli)} start --head --port 6390 --num-cpus 2 --temp-dir {temp} "
              f"--include-dashboard=false --block > {shlex.quote(str(tmp_path / 'head.txt'))} "
              f"2>&1 & head=$!; sleep 12; {shlex.join(sweep)}; rc=$?; kill $head; wait $head; "
              f"exit $rc")
    try:
        r = subprocess.run(raynet.loopback(["bash", "-c", script]), capture_output=True,
                           text=True, timeout=240, env=raynet.ray_env(RAY_AUTH_MODE="disabled"))
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "on the Ray cluster at 127.0.0.1:6390" in r.stderr
    for lr in ("0.0003", "0.001"):
        assert (tmp_path / "out" / f"ppo.learning_rate={lr}" / "seed-1" / "summary.json").is_file()
