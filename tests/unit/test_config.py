import dataclasses
import re
from pathlib import Path

import pytest
import yaml

from thermorl.config import Config
from thermorl.config_io import field_paths, from_dict, nest, resolve, to_dict, to_yaml
from thermorl.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_precedence_defaults_preset_file_overrides(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("env_id: CartPole-v1\nseed: 7\nppo:\n  num_envs: 4\n  gamma: 0.95\n")
    cfg, preset = resolve(file=f, overrides={"ppo.gamma": "0.9"})
    assert preset == "CartPole-v1" and cfg.preset == "CartPole-v1"
    assert cfg.seed == 7 and cfg.ppo.num_envs == 4      # file beats preset
    assert cfg.ppo.gamma == 0.9                         # flag beats file
    assert cfg.ppo.update_epochs == 20                  # preset beats default
    assert cfg.ppo.vf_coef == Config().ppo.vf_coef      # default where nobody spoke


def test_preset_none_and_unknown_env_without_preset():
    cfg, preset = resolve(overrides={"preset": "none"})
    assert preset is None and cfg.ppo == Config().ppo
    cfg, preset = resolve(base={"env_id": "Acrobot-v1"})  # no preset of its own: general
    assert preset == cfg.preset == "general" and cfg.ppo.norm_obs
    with pytest.raises(ConfigError, match="unknown preset 'Foo'.*general, CartPole-v1"):
        resolve(overrides={"preset": "Foo"})


@pytest.mark.parametrize("key,value,pattern", [
    ("ppo.num_envs", "abc", r"ppo.num_envs: expected an integer >= 1, got 'abc'"),
    ("ppo.num_envs", "2.5", r"ppo.num_envs: expected an integer"),
    ("ppo.learning_rate", "-1", r"ppo.learning_rate: expected a number > 0, got -1"),
    ("ppo.gamma", "1.5", r"ppo.gamma: expected a number >= 0 and <= 1"),
    ("ppo.norm_adv", "3", r"ppo.norm_adv: expected true or false"),
    ("policy.activation", "swish", r"policy.activation: expected one of tanh, relu"),
    ("policy.hidden_sizes", "[64, -1]", r"policy.hidden_sizes: expected a list of integers"),
    ("ppo.target_kl", "0", r"ppo.target_kl: expected a number > 0 or null"),
])
def test_bad_values_name_field_and_accepted(key, value, pattern):
    with pytest.raises(ConfigError, match=pattern):
        resolve(overrides={key: value})


def test_unknown_keys_suggest_nearest():
    with pytest.raises(ConfigError, match=r"'ppo.num_env'.*ppo.num_envs"):
        resolve(overrides={"ppo.num_env": "2"})
    with pytest.raises(ConfigError, match=r"'ppo.learnig_rate'.*ppo.learning_rate"):
        from_dict({"ppo": {"learnig_rate": 1e-3}})


def test_cross_field_checks():
    with pytest.raises(ConfigError, match=r"num_minibatches=3 does not divide .* 256"):
        resolve(overrides={"ppo.num_minibatches": "3"})
    with pytest.raises(ConfigError, match="log_std_init"):
        resolve(overrides={"policy.log_std_init": "5"})


def test_numbers_in_scientific_notation_and_null():
    cfg, _ = resolve(overrides={"total_timesteps": "1e5", "ppo.target_kl": "null",
                                "ppo.learning_rate": "3e-4"})
    assert cfg.total_timesteps == 100_000 and cfg.ppo.target_kl is None
    assert cfg.ppo.learning_rate == 3e-4


def test_yaml_round_trip_is_exact():
    cfg, _ = resolve(overrides={"policy.hidden_sizes": "[32, 16]", "env_kwargs": "{a: 1}"})
    again = from_dict(yaml.safe_load(to_yaml(cfg)))
    assert again == cfg
    assert to_dict(cfg)["policy"]["hidden_sizes"] == [32, 16]


def test_configs_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Config().ppo.num_envs = 3  # type: ignore[misc]


def test_nest_dotted():
    assert nest({"ppo.num_envs": "8", "seed": 3}) == {"ppo": {"num_envs": 8}, "seed": 3}


def test_every_field_has_help_and_is_documented():
    from thermorl.config_doc import markdown

    doc = (ROOT / "docs" / "configuration.md").read_text()
    for path, f in field_paths().items():
        assert f.metadata.get("help"), f"{path} has no help text"
        assert re.search(rf"`{re.escape(path)}`", doc), f"{path} missing in docs/configuration.md"
    assert doc == markdown(), "regenerate: python -m thermorl.config_doc > docs/configuration.md"
