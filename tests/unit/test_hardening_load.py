"""Loading a checkpoint into a model it does not fit is one line naming the checkpoint, the
parameters and the likely cause, for PPO and SAC; not torch's size-mismatch listing."""

import pytest
import torch
import yaml

import thermorl
from thermorl import checkpoint
from thermorl.algos.state import weight_mismatches
from thermorl.errors import ThermorlError

QUIET = {"log.progress": "off", "ppo.num_envs": 2}


def saved(tmp_path, algo, env_id, **dotted):
    cls = {"ppo": thermorl.PPO, "sac": thermorl.SAC}[algo]
    extra = {**QUIET} if algo == "ppo" else {"log.progress": "off", "sac.buffer_size": 64}
    agent = cls(env_id, thermorl.make_config(env_id, algo=algo, **{**extra, **dotted}))
    return agent.save(tmp_path / f"{algo}.pt")


def one_line(e):
    return len(str(e).splitlines()) == 1


@pytest.mark.parametrize("algo,run_env,other", [
    ("ppo", "CartPole-v1", "Acrobot-v1"),
    ("sac", "Pendulum-v1", "MountainCarContinuous-v0"),
])
def test_load_with_an_env_of_other_spaces(tmp_path, algo, run_env, other):
    path = saved(tmp_path, algo, run_env)
    cls = {"ppo": thermorl.PPO, "sac": thermorl.SAC}[algo]
    with pytest.raises(ThermorlError) as e:
        cls.load(path, env=other)
    msg = str(e.value)
    assert one_line(e.value) and str(path) in msg
    assert "in the checkpoint but" in msg and "in the model" in msg  # which parameters
    assert f"the env given ({other!r}) is not the run's ({run_env!r})" in msg
    assert "observation or action spaces" in msg and "policy.hidden_sizes" in msg


def test_weights_that_do_not_fit_their_config(tmp_path):
    path = saved(tmp_path, "ppo", "CartPole-v1", **{"policy.hidden_sizes": [16, 16]})
    state = checkpoint.load(path)
    cfg = yaml.safe_load(state["config"])
    cfg["policy"]["hidden_sizes"] = [8, 8]  # a config edited after the run
    state["config"] = yaml.safe_dump(cfg)
    checkpoint.save(state, path)
    with pytest.raises(ThermorlError, match=r"actor_body\.0\.weight is \(16, 4\) in the "
                                            r"checkpoint but \(8, 4\) in the model") as e:
        thermorl.PPO.load(path)
    assert one_line(e.value) and "(and " in str(e.value) and "policy.hidden_sizes" in str(e.value)


def test_weight_mismatches_lists_shapes_and_missing_keys():
    model = {"a": torch.zeros(2, 3), "b": torch.zeros(4), "c": torch.zeros(1)}
    saved_ = {"a": torch.zeros(2, 3), "b": torch.zeros(5), "d": torch.zeros(1)}
    assert weight_mismatches(saved_, model) == [
        "b is (5,) in the checkpoint but (4,) in the model", "c is only in the model",
        "d is only in the checkpoint"]
    assert weight_mismatches(model, model) == []
