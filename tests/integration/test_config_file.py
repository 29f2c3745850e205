"""A YAML config file drives a run; dotted command-line options beat it."""

from __future__ import annotations

import yaml

CONFIG = """\
env_id: CartPole-v1
total_timesteps: 256
seed: 7
ppo:
  num_envs: 2
  num_steps: 64
  num_minibatches: 2
  update_epochs: 1
  learning_rate: 0.002
  anneal_lr: false
eval:
  episodes: 2
log:
  progress: off
  tensorboard: false
"""


def test_yaml_file_is_honoured_and_cli_beats_it(run_cli, it, tmp_path):
    f = tmp_path / "cartpole.yaml"
    f.write_text(CONFIG)
    run_dir = tmp_path / "run"
    r = run_cli("train", "--config", f, "--run-dir", run_dir, "--ppo.learning_rate", "5e-3")
    assert r.rc == 0, r
    assert "seed 7" in r.err

    cfg = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert cfg["env_id"] == "CartPole-v1" and cfg["seed"] == 7 and cfg["total_timesteps"] == 256
    assert cfg["ppo"]["num_envs"] == 2 and cfg["ppo"]["update_epochs"] == 1  # file over preset
    assert cfg["ppo"]["learning_rate"] == 5e-3  # command line over file
    assert cfg["ppo"]["gamma"] == 0.98  # the CartPole preset still fills what the file leaves
    assert cfg["preset"] == "CartPole-v1"
    assert cfg["log"]["progress"] == "off" and cfg["log"]["tensorboard"] is False

    # the values were used, not only written down
    header, rows = it.read_metrics(run_dir)
    assert [int(r["global_step"]) for r in rows] == [128, 256]
    assert {float(r["diag/learning_rate"]) for r in rows} == {5e-3}
    assert {float(r["diag/epochs"]) for r in rows} == {1.0}
    assert not (run_dir / "tb").exists()
    assert it.read_summary(run_dir)["global_step"] == 256


def test_run_setting_flags_override_the_file(run_cli, it, tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text(CONFIG)
    run_dir = tmp_path / "run"
    r = run_cli("train", "--config", f, "--run-dir", run_dir, "--seed", "11",
                "--total-timesteps", "128", "--env-id", "Acrobot-v1")
    assert r.rc == 0, r
    cfg = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert cfg["env_id"] == "Acrobot-v1" and cfg["seed"] == 11 and cfg["total_timesteps"] == 128
    # no preset for Acrobot: the general one, then the file
    assert cfg["preset"] == "general"
    assert cfg["ppo"]["gamma"] == 0.99
    assert it.read_summary(run_dir)["global_step"] == 128


def test_positional_env_id_beats_the_file(run_cli, tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text(CONFIG)
    run_dir = tmp_path / "run"
    r = run_cli("train", "Acrobot-v1", "--config", f, "--run-dir", run_dir,
                "--total-timesteps", "128")
    assert r.rc == 0, r
    assert yaml.safe_load((run_dir / "config.yaml").read_text())["env_id"] == "Acrobot-v1"
