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
