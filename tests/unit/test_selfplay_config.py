"""The `selfplay:` config section: defaults, ranges, and the settings it cannot be combined
with, each a one-line error naming them."""

import pytest

from thermorl.config import Config
from thermorl.config_io import resolve
from thermorl.errors import ConfigError


def test_off_by_default_and_settable():
    assert Config().selfplay.enabled is False
    cfg, _ = resolve(overrides={"env_id": "thermorl/Dogfight-v0", "selfplay.enabled": "true",
                                "selfplay.window": "3", "selfplay.scripted_weight": "0.5"})
    assert cfg.selfplay.enabled and cfg.selfplay.window == 3
    assert cfg.selfplay.scripted_weight == 0.5


def test_a_self_play_run_on_the_duel_takes_the_self_play_preset():
    single, _ = resolve(overrides={"env_id": "thermorl/Dogfight-v0"})
    cfg, name = resolve(overrides={"env_id": "thermorl/Dogfight-v0", "selfplay.enabled": "true"})
    assert name == cfg.preset == "selfplay/thermorl/Dogfight-v0"
    assert (cfg.ppo.num_envs, cfg.ppo.anneal_lr) == (32, True)
    assert (single.ppo.num_envs, single.ppo.anneal_lr) == (16, False)
    # the rest is the single-agent preset: the same heads' targets, steps and budget
    assert cfg.entropy == single.entropy and cfg.total_timesteps == single.total_timesteps
    assert cfg.ppo.num_steps == single.ppo.num_steps
    # flags still win, `preset: none` drops it, and naming it turns self-play on
    cfg, _ = resolve(overrides={"env_id": "thermorl/Dogfight-v0", "selfplay.enabled": "true",
                                "ppo.num_envs": "8"})
    assert cfg.ppo.num_envs == 8
    cfg, _ = resolve(overrides={"env_id": "thermorl/Dogfight-v0", "selfplay.enabled": "true",
                                "preset": "none"})
    assert cfg.preset == "none" and cfg.ppo.num_envs == Config().ppo.num_envs
    cfg, _ = resolve(overrides={"env_id": "thermorl/Dogfight-v0",
                                "preset": "selfplay/thermorl/Dogfight-v0"})
    assert cfg.selfplay.enabled and cfg.ppo.num_envs == 32


@pytest.mark.parametrize("key,value,pattern", [
    ("selfplay.save_steps", "0", r"selfplay.save_steps: expected an integer >= 1"),
    ("selfplay.swap_steps", "-5", r"selfplay.swap_steps: expected an integer >= 1"),
    ("selfplay.window", "0", r"selfplay.window: expected an integer >= 1"),
    ("selfplay.latest_ratio", "1.5", r"selfplay.latest_ratio: expected a number >= 0 and <= 1"),
    ("selfplay.latest_ratio", "-0.1", r"selfplay.latest_ratio: expected a number >= 0"),
    ("selfplay.scripted_weight", "-1", r"selfplay.scripted_weight: expected a number >= 0"),
    ("selfplay.elo_k", "0", r"selfplay.elo_k: expected a number > 0"),
    ("selfplay.eval_duels", "0", r"selfplay.eval_duels: expected an integer >= 1"),
])
def test_bad_values_name_the_field_and_its_range(key, value, pattern):
    with pytest.raises(ConfigError, match=pattern):
        resolve(overrides={key: value})


@pytest.mark.parametrize("overrides,pattern", [
    ({"algo": "sac"}, r"selfplay.enabled with algo sac: self-play trains PPO only"),
    ({"ppo.recurrent": "gru"}, r"selfplay.enabled with ppo.recurrent gru: .*feed-forward"),
    ({"runners.backend": "async"}, r"selfplay.enabled with runners.backend async"),
    ({"selfplay.latest_ratio": 1.0, "selfplay.scripted_weight": 1.0},
     r"scripted_weight=1.0 has no effect with selfplay.latest_ratio=1.0"),
])
def test_what_self_play_cannot_be_combined_with(overrides, pattern):
    with pytest.raises(ConfigError, match=pattern):
        resolve(overrides={"env_id": "thermorl/Dogfight-v0", "selfplay.enabled": True,
                           **overrides})
    resolve(overrides={"env_id": "thermorl/Dogfight-v0", **overrides})  # fine without it
