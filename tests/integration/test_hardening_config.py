"""Settings found wanting by a fault-injection pass: the value clip has its own coefficient
(`ppo.clip_vloss_coef`), which `anneal_clip` does not shrink, on both PPO learners; and an
error about `ppo.ent_coef` names `ppo.ent_coef`."""

import pytest
import torch
import yaml
from conftest import FAST_DOTTED

import thermorl
from thermorl.config_io import from_dict, to_dict
from thermorl.errors import ConfigError


def moved_rollout(fused, **extra):
    """A CartPole rollout with the policy moved off the one that collected it, so that the
    values move and a value clip bites."""
    cfg = thermorl.make_config("CartPole-v1", **{
        **FAST_DOTTED, "preset": "none", "seed": 3, "ppo.num_steps": 32, "ppo.fused": fused,
        "ppo.clip_vloss": True, "ppo.clip_vloss_coef": 0.05, **extra})
    algo = thermorl.PPO("CartPole-v1", cfg)
    algo.collector.reset(seed=0)
    algo._collect()
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():  # (the fused path's parameters are views of one flat tensor)
        params = [algo.learner.net.flat.param] if fused else algo.policy.parameters()
        for p in params:
            p.add_(0.3 * torch.randn(p.shape, generator=gen))
    return algo


@pytest.mark.parametrize("fused", [False, True], ids=["autograd", "fused"])
def test_value_clip_does_not_follow_the_surrogate_clip(fused):
    algo = moved_rollout(fused)
    mb = next(algo.buffer.minibatches(1, torch.Generator().manual_seed(0)))
    coefs = algo.entropy.coefs(0.0)
    # an annealed surrogate clip near the end of training, and at its start
    late = algo.learner._evaluate(mb, 1e-6, coefs).terms["loss/value"]
    early = algo.learner._evaluate(mb, 0.2, coefs).terms["loss/value"]
    assert late == pytest.approx(early, rel=1e-6)
    unclipped = moved_rollout(fused, **{"ppo.clip_vloss": False})
    free = unclipped.learner._evaluate(mb, 0.2, coefs).terms["loss/value"]
    assert free != pytest.approx(early, rel=1e-3)  # the 0.05 value clip does bite


def test_old_run_configs_without_the_value_clip_load():
    data = to_dict(thermorl.make_config("CartPole-v1", **{"ppo.clip_coef": 0.1}))
    del data["ppo"]["clip_vloss_coef"]
    cfg = from_dict(yaml.safe_load(yaml.safe_dump(data)))
    assert cfg.ppo.clip_vloss_coef == 0.1  # the value clip such a run had, now not annealed
    assert thermorl.make_config("CartPole-v1").ppo.clip_vloss_coef == 0.2


def test_value_clip_coef_must_be_positive():
    with pytest.raises(ConfigError, match=r"ppo.clip_vloss_coef: expected a number > 0"):
        thermorl.make_config("CartPole-v1", **{"ppo.clip_vloss_coef": 0})


def test_an_error_about_ent_coef_names_ent_coef():
    cfg = thermorl.make_config("CartPole-v1", **{"ppo.ent_coef": float("inf")})
    with pytest.raises(ConfigError, match=r"^ppo.ent_coef: expected a finite number, got inf"):
        thermorl.PPO("CartPole-v1", cfg)
    # the entropy section's own coefficient is still named as itself
    with pytest.raises(ConfigError, match=r"^entropy.coef: expected a finite number"):
        thermorl.make_config("CartPole-v1", **{"entropy.coef": float("inf")})
