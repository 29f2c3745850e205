"""Action masks inside a Dict observation, for a multi-head action space: the env count comes
from an observation entry that is not the mask (gymnasium sorts a Dict's keys, so
`action_mask`, a dict by head, comes first), in training, evaluation and `predict`."""

import gymnasium as gym
import numpy as np
import pytest
from conftest import FAST_DOTTED

import thermorl

ENV = "spaces_envs:ThermorlSpaces/dict-mask-obs-v0"


@pytest.mark.parametrize("algo,num_envs", [("ppo", 4), ("ppo", 2), ("sac", 4)])
def test_dict_observation_masks_train_and_evaluate(algo, num_envs):
    # 2 training envs: the evaluation's 8 envs are another count again
    if algo == "ppo":
        cfg = thermorl.make_config(ENV, **{**FAST_DOTTED, "ppo.num_envs": num_envs,
                                           "ppo.num_steps": 16, "eval.episodes": 8})
        agent = thermorl.PPO(ENV, cfg)
    else:
        cfg = thermorl.make_config(ENV, algo="sac", **{
            "sac.num_envs": num_envs, "sac.learning_starts": 32, "sac.batch_size": 16,
            "sac.log_interval": 32, "eval.episodes": 8, "log.progress": "off"})
        agent = thermorl.SAC(ENV, cfg)
    with agent:  # the env asserts that no masked action reaches it
        agent.learn(64)
        assert agent.final_eval["episodes"] == 8


def test_predict_on_one_dict_observation_with_its_mask():
    cfg = thermorl.make_config(ENV, **{**FAST_DOTTED, "ppo.num_envs": 4})
    agent = thermorl.PPO(ENV, cfg)
    obs, _ = gym.make("ThermorlSpaces/dict-mask-obs-v0").reset(seed=0)
    assert list(obs) == ["observation", "action_mask"]  # the env's own order, unbatched
    # one valid action per discrete head: whatever the policy prefers, that one is taken
    obs["action_mask"] = {"maneuver": np.array([0, 0, 0, 1, 0], np.int8),
                          "fire": np.array([0, 1], np.int8)}
    for deterministic in (True, False):
        for _ in range(5):
            act = agent.predict(obs, deterministic=deterministic)
            assert int(act["maneuver"]) == 3 and int(act["fire"]) == 1
    # the same observation as a batch of two, keys in gymnasium's sorted order
    batch = {"action_mask": {k: np.stack([v, v]) for k, v in obs["action_mask"].items()},
             "observation": np.stack([obs["observation"]] * 2)}
    act = agent.predict(batch)
    assert act["maneuver"].tolist() == [3, 3] and act["fire"].tolist() == [1, 1]
