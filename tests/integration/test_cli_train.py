"""`thermorl train`: what a finished run leaves in its directory, --help, the bare command, and
the console script."""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from thermorl import cli
from thermorl.config_io import resolve, to_dict

REQUIRED_COLUMNS = ["global_step", "loss/policy", "loss/value", "loss/entropy", "entropy/action",
                    "alpha/action", "diag/approx_kl", "diag/clip_fraction",
                    "diag/explained_variance", "perf/sps"]


@pytest.mark.parametrize("env_id,preset_gamma", [("CartPole-v1", 0.98), ("Pendulum-v1", 0.9)])
def test_train_writes_a_complete_run_directory(run_cli, it, tmp_path, env_id, preset_gamma):
    run_dir = tmp_path / "run"
    r = run_cli("train", env_id, "--total-timesteps", "512", "--run-dir", run_dir, *it.FAST)
    assert r.rc == 0, r
    assert "Traceback" not in r.err
    assert "final eval: mean return" in r.out and str(run_dir) in r.out
    assert f"preset {env_id}" in r.err  # the preset in use is announced

    # config.yaml: plain YAML equal to the resolved config, preset included
    cfg = yaml.safe_load((run_dir / "config.yaml").read_text())
    expected, preset = resolve(base={"env_id": env_id},
                               overrides={"total_timesteps": 512, **it.FAST_DOTTED})
    assert cfg == to_dict(expected)
    assert cfg["preset"] == preset == env_id
    assert cfg["env_id"] == env_id and cfg["total_timesteps"] == 512
    assert cfg["ppo"]["num_envs"] == 2  # the command line beat the preset...
    assert cfg["ppo"]["gamma"] == preset_gamma  # ...which beat the defaults

    # metrics.csv: the documented columns, one row per update, steps increasing
    header, rows = it.read_metrics(run_dir)
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    assert not missing, header
    steps = [int(r["global_step"]) for r in rows]
    assert steps == [128, 256, 384, 512]
    for row in rows:
        for col in REQUIRED_COLUMNS:
            assert row[col] != "" and math.isfinite(float(row[col])), (col, row)
        assert float(row["perf/sps"]) > 0
        assert 0.0 <= float(row["diag/clip_fraction"]) <= 1.0

    # TensorBoard events under tb/, holding the scalars
    events = list((run_dir / "tb").glob("events.out.tfevents.*"))
    assert len(events) == 1
    data = events[0].read_bytes()
    assert b"brain.Event:2" in data and b"loss/policy" in data and b"entropy/action" in data

    # checkpoints that load without unpickling code
    for name in ("latest", "best"):
        ck = torch.load(run_dir / "checkpoints" / f"{name}.pt", weights_only=True)
        assert ck["algo"] == "ppo"
        assert isinstance(ck["policy"], dict) and ck["policy"]
        assert yaml.safe_load(ck["config"]) == cfg
    latest = torch.load(run_dir / "checkpoints" / "latest.pt", weights_only=True)
    assert latest["global_step"] == 512 and latest["updates"] == 4

    # summary.json
    summary = it.read_summary(run_dir)
    assert summary["global_step"] == 512
    assert summary["env_id"] == env_id
    assert math.isfinite(summary["final_eval"]["mean_return"])
    assert summary["final_eval"]["episodes"] == 2
    if env_id == "CartPole-v1":
        assert 1 <= summary["final_eval"]["mean_return"] <= 500
    else:
        assert summary["final_eval"]["mean_return"] < 0  # Pendulum's rewards are all <= 0
    assert not list(run_dir.rglob("*.tmp")), "a checkpoint temp file was left behind"


def test_train_help_lists_config_flags_with_help_text(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["train", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "--ppo.num_envs" in out
    assert "parallel environments in the vector env" in out
    assert "--total-timesteps" in out and "--resume" in out and "--config" in out


def test_top_level_help_lists_commands(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "train" in out and "eval" in out


def test_bare_command_means_train(monkeypatch):
    seen = {}

    def fake_train(args, parser):
        seen["args"] = args
        return 0

    monkeypatch.setattr(cli, "cmd_train", fake_train)
    assert cli.main([]) == 0
    args = seen["args"]
    assert args.command == "train" and args.env_pos is None and args.resume is None
    assert not [k for k in vars(args) if k.startswith("cfg:")]  # no overrides: CartPole defaults
    assert resolve()[0].env_id == "CartPole-v1"


@pytest.mark.parametrize("argv", [["train", "--entropy.noise.beta", "1.0"],
                                  ["--entropy.noise.beta", "1.0", "--seed", "3"],
                                  ["train", "Pendulum-v1", "--entropy.noise.beta", "1.0"]])
def test_structured_flag_value_is_not_taken_for_the_env_id(monkeypatch, argv):
    seen = {}
    monkeypatch.setattr(cli, "cmd_train", lambda args, parser: seen.setdefault("a", args) and 0)
    assert cli.main(argv) == 0
    args = seen["a"]
    assert getattr(args, "cfg:entropy.noise.beta") == "1.0"
    assert args.env_pos == ("Pendulum-v1" if "Pendulum-v1" in argv else None)


def test_options_without_subcommand_train_cartpole_into_runs(run_cli, it, tmp_path):
    r = run_cli("--total-timesteps", "256", *it.FAST)
    assert r.rc == 0, r
    (run_dir,) = list((tmp_path / "runs").iterdir())  # default run dir, under the cwd
    assert run_dir.name.startswith("CartPole-v1-ppo-")
    assert it.read_summary(run_dir)["global_step"] == 256
    assert yaml.safe_load((run_dir / "config.yaml").read_text())["env_id"] == "CartPole-v1"


def thermorl_script() -> str:
    exe = shutil.which("thermorl", path=str(Path(sys.executable).parent))
    assert exe, f"console script 'thermorl' not found beside {sys.executable}"
    return exe


def test_console_script_trains_a_module_env(it, tmp_path):
    """The installed `thermorl` script, in a fresh process that imports the env module of a
    module:EnvId by name from PYTHONPATH, as a user's own module would be."""
    run_dir = tmp_path / "run"
    env_id = "envs_for_tests:ThermorlTest/Sign-v0"
    p = subprocess.run([thermorl_script(), "train", env_id, "--total-timesteps", "256",
                        "--run-dir", str(run_dir), *it.FAST], capture_output=True, text=True,
                       timeout=120, env=it.subprocess_env())
    assert p.returncode == 0, p.stderr
    assert "Traceback" not in p.stderr
    assert "final eval: mean return" in p.stdout and str(run_dir) in p.stdout
    summary = it.read_summary(run_dir)
    assert summary["global_step"] == 256 and summary["env_id"] == env_id
