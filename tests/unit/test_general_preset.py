"""`preset: auto` on an env without a preset of its own: PPO gets the `general` set, named in
config.yaml and printed with the reason by the CLI; env presets, `preset: none` and SAC are
untouched."""

import pytest

import thermorl
from thermorl import cli
from thermorl.config import Config
from thermorl.errors import ConfigError
from thermorl.presets import GENERAL_SET


@pytest.mark.parametrize("env_id,kwargs", [
    ("MountainCarContinuous-v0", {}),                                      # continuous
    ("Acrobot-v1", {}),                                                    # discrete
    ("thermorl/HybridIdentity-v0", {}),                                    # hybrid
    ("thermorl/MaskObservation-v0", {"env": "Pendulum-v1", "hide": [2]}),  # a wrapped env
])
def test_an_env_without_a_preset_gets_the_general_set(env_id, kwargs):
    cfg = thermorl.make_config(env_id, env_kwargs=kwargs)
    assert cfg.preset == "general"
    for key, value in GENERAL_SET["ppo"].items():
        assert getattr(cfg.ppo, key) == value, key


def test_flags_beat_it_and_it_can_be_named():
    cfg = thermorl.make_config("Acrobot-v1", **{"ppo.num_envs": 2})
    assert cfg.ppo.num_envs == 2 and cfg.ppo.norm_obs
    cfg = thermorl.make_config("CartPole-v1", preset="general")
    assert cfg.preset == "general" and cfg.ppo.num_steps == GENERAL_SET["ppo"]["num_steps"]


def test_env_presets_win_and_none_and_sac_are_untouched():
    assert thermorl.make_config("Pendulum-v1").preset == "Pendulum-v1"
    assert thermorl.make_config("Acrobot-v1", preset="none").ppo == Config().ppo
    cfg = thermorl.make_config("MountainCarContinuous-v0", algo="sac")
    assert cfg.preset == "none"  # SAC's defaults are per algorithm (docs/sac.md)
    with pytest.raises(ConfigError, match="preset 'general' is for algo ppo, but algo is sac"):
        thermorl.make_config("Pendulum-v1", algo="sac", preset="general")


def test_cli_says_what_it_chose_and_why(tmp_path, capsys):
    assert cli.main(["train", "Acrobot-v1", "--total-timesteps", "2048",
                     "--run-dir", str(tmp_path / "run"), "--eval.episodes", "1",
                     "--log.progress", "off"]) == 0
    line = next(ln for ln in capsys.readouterr().err.splitlines() if "preset" in ln)
    assert line.startswith("thermorl: no preset for Acrobot-v1, so the general one, chosen over "
                           "13 tasks (docs/defaults.md); preset general: "
                           "ppo.num_envs=4, ppo.num_steps=512")
    assert "preset: general" in (tmp_path / "run" / "config.yaml").read_text()


def test_hopper_gets_the_general_set_at_1m_and_the_zoo_set_by_name(tmp_path, capsys):
    cfg = thermorl.make_config("Hopper-v5")
    assert cfg.preset == "Hopper-v5" and cfg.total_timesteps == 1_000_000
    for key, value in GENERAL_SET["ppo"].items():
        assert getattr(cfg.ppo, key) == value, key
    zoo = thermorl.make_config("Hopper-v5", preset="zoo/Hopper-v5")
    assert zoo.ppo.num_envs == 1 and zoo.ppo.gamma == 0.999 and zoo.total_timesteps == 1_000_000
    with pytest.raises(ConfigError, match="preset 'zoo/Hopper-v5' is for algo ppo"):
        thermorl.make_config("Hopper-v5", algo="sac", preset="zoo/Hopper-v5")
    pytest.importorskip("mujoco")
    assert cli.main(["train", "Hopper-v5", "--total-timesteps", "256", "--ppo.num_steps", "64",
                     "--run-dir", str(tmp_path / "run"), "--eval.episodes", "1",
                     "--log.progress", "off"]) == 0
    line = next(ln for ln in capsys.readouterr().err.splitlines() if "preset" in ln)
    assert line.startswith("thermorl: the general set at 1M steps, not the zoo's Hopper set "
                           "(--preset zoo/Hopper-v5), which ended at 91, 766 and 1,001")
