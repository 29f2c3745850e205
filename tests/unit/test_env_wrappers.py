"""`env_wrappers`: the config form (names and {name: kwargs}), errors that name the bad wrapper
and what is accepted, and wrappers applied in order, the first innermost."""

import gymnasium as gym
import numpy as np
import pytest

from thermorl.envs.vector import make_render_env, make_vector_env
from thermorl.envs.wrappers import apply, parse
from thermorl.errors import ConfigError, EnvError


def test_the_config_form_is_names_and_single_key_mappings():
    assert parse(None, "env_wrappers") == []
    assert parse("TimeAwareObservation", "env_wrappers") == ["TimeAwareObservation"]
    assert parse(["TimeAwareObservation", {"FrameStackObservation": {"stack_size": 3}},
                  {"ClipReward": None}, "pkg.mod:MyWrapper"], "env_wrappers") == [
        "TimeAwareObservation", {"FrameStackObservation": {"stack_size": 3}}, "ClipReward",
        "pkg.mod:MyWrapper"]


@pytest.mark.parametrize("value, match", [
    (["FrameStack"], r"unknown wrapper 'FrameStack'; did you mean FrameStackObservation\?"),
    ([{"ClipReward": 3}], r"wrapper 'ClipReward' takes a mapping of keyword arguments, got 3"),
    ([{"A": {}, "B": {}}], r"is not a wrapper; accepted: a list of wrappers"),
    ([7], r"7 is not a wrapper"),
    (5, r"expected a list of wrappers, each a name"),
])
def test_bad_wrappers_are_config_errors_naming_what_is_accepted(value, match):
    with pytest.raises(ConfigError, match=match):
        parse(value, "env_wrappers")


def test_wrappers_apply_in_order_the_first_innermost():
    env = apply(gym.make("CartPole-v1"), ["TimeAwareObservation",
                                          {"FrameStackObservation": {"stack_size": 3}}])
    assert isinstance(env, gym.wrappers.FrameStackObservation)
    assert isinstance(env.env, gym.wrappers.TimeAwareObservation)
    assert env.observation_space.shape == (3, 5)  # 4 values and the time, 3 frames
    env.close()


def test_a_wrapper_that_rejects_its_arguments_or_the_env_says_which():
    with pytest.raises(EnvError, match=r"wrapper 'FrameStackObservation' rejected its "
                                       r"arguments \{'stacks': 2\}"):
        apply(gym.make("CartPole-v1"), [{"FrameStackObservation": {"stacks": 2}}])
    with pytest.raises(EnvError, match=r"wrapper 'GrayscaleObservation' could not wrap the "
                                       r"env: ValueError: GrayscaleObservation requires an image"):
        apply(gym.make("CartPole-v1"), ["GrayscaleObservation"])
    with pytest.raises(EnvError, match=r"wrapper 'no_such_module_x:W': cannot import module"):
        apply(gym.make("CartPole-v1"), ["no_such_module_x:W"])
    with pytest.raises(EnvError, match=r"module 'gymnasium' has no 'NoSuchWrapper'"):
        apply(gym.make("CartPole-v1"), ["gymnasium:NoSuchWrapper"])


@pytest.mark.parametrize("backend", ["local", "async"])
def test_vector_envs_wrap_every_copy_and_keep_the_eval_time_limit(backend):
    envs = make_vector_env("CartPole-v1", 2, backend=backend,
                           wrappers=[{"FrameStackObservation": {"stack_size": 2}}])
    assert envs.single_observation_space.shape == (2, 4)
    obs, _ = envs.reset(seed=0)
    assert obs.shape == (2, 2, 4) and np.all(obs[:, 0] == obs[:, 1])  # the reset, twice
    envs.close()
    # an env without a time limit of its own still gets evaluation's, under the wrappers
    envs = make_vector_env("CliffWalking-v1", 1, max_episode_steps=5,
                           wrappers=["TimeAwareObservation"])
    envs.reset(seed=0)
    ends = [bool(envs.step(np.array([0]))[3][0]) for _ in range(5)]
    assert ends == [False] * 4 + [True]
    envs.close()


def test_the_render_env_is_wrapped_too():
    env = make_render_env("CartPole-v1", wrappers=[{"FrameStackObservation": {"stack_size": 2}}])
    assert env.observation_space.shape == (2, 4) and env.render_mode == "rgb_array"
    env.close()


def test_a_checkpoint_cannot_make_the_loader_import_a_wrappers_module():
    import sys

    from thermorl.envs.vector import only_importing

    if "wave" in sys.modules:
        pytest.skip("the module this test names is already imported")
    with only_importing([], "checkpoint 'x.pt'"), pytest.raises(
            EnvError, match=r"checkpoint 'x.pt' names wrapper 'wave:Wave_read', which would "
                            r"import module 'wave'"):
        apply(gym.make("CartPole-v1"), ["wave:Wave_read"])
    assert "wave" not in sys.modules


def test_self_play_refuses_gymnasium_wrappers():
    import thermorl

    with pytest.raises(ConfigError, match=r"selfplay.enabled with env_wrappers"):
        thermorl.make_config("thermorl/Dogfight-v0", env_wrappers=["ClipReward"],
                             **{"selfplay.enabled": True})
