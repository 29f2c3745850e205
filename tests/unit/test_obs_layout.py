"""Observation spaces as one flat float vector: Box as it is, Discrete one-hot, MultiDiscrete one
one-hot per dimension, MultiBinary as 0/1, Dict and Tuple walked in order (nested too), a
top-level Dict's action mask left out; anything else is an error naming what is accepted."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

from thermorl.envs.spaces import ObsLayout
from thermorl.errors import EnvError


def test_discrete_is_one_hot_from_its_start():
    layout = ObsLayout(spaces.Discrete(4, start=2))
    assert layout.dim == 4 and layout.keys is None
    out = layout.flatten(np.array([2, 5, 3]))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [[1, 0, 0, 0], [0, 0, 0, 1], [0, 1, 0, 0]])


def test_multidiscrete_is_one_hot_per_dimension_side_by_side():
    layout = ObsLayout(spaces.MultiDiscrete([2, 3], start=[0, -1]))
    assert layout.dim == 5
    np.testing.assert_array_equal(layout.flatten(np.array([[1, -1], [0, 1]])),
                                  [[0, 1, 1, 0, 0], [1, 0, 0, 0, 1]])


def test_multibinary_and_box_are_taken_as_they_are():
    assert ObsLayout(spaces.MultiBinary(3)).flatten(np.array([[1, 0, 1]], np.int8)).tolist() \
        == [[1.0, 0.0, 1.0]]
    box = ObsLayout(spaces.Box(-1, 1, (2, 3)))
    assert box.dim == 6 and box.flatten(np.ones((4, 2, 3))).shape == (4, 6)


def test_blackjack_tuple_is_three_one_hots():
    layout = ObsLayout(gym.make("Blackjack-v1").observation_space)  # (32, 11, 2)
    assert layout.dim == 45 and layout.keys == ["0", "1", "2"]
    out = layout.flatten((np.array([14, 31]), np.array([10, 1]), np.array([0, 1])))
    assert out.shape == (2, 45)
    assert np.flatnonzero(out[0]).tolist() == [14, 32 + 10, 43 + 0]
    assert np.flatnonzero(out[1]).tolist() == [31, 32 + 1, 43 + 1]


def test_nested_dict_and_tuple_walk_in_order_and_only_the_top_mask_is_left_out():
    space = spaces.Dict({
        "action_mask": spaces.MultiBinary(2),
        "pos": spaces.Box(-1, 1, (2,)),
        "inv": spaces.Tuple((spaces.Discrete(3), spaces.Dict({"action_mask": spaces.Discrete(2)}))),
    })
    layout = ObsLayout(space)
    assert layout.keys == ["inv/0", "inv/1/action_mask", "pos"]  # gymnasium sorts Dict keys
    assert layout.dim == 3 + 2 + 2
    obs = {"action_mask": np.ones((2, 2), np.int8), "pos": np.array([[0.5, -0.5], [1, 1]]),
           "inv": (np.array([2, 0]), {"action_mask": np.array([1, 0])})}
    np.testing.assert_array_equal(layout.flatten(obs), [[0, 0, 1, 0, 1, 0.5, -0.5],
                                                        [1, 0, 0, 1, 0, 1, 1]])
    assert layout.count(obs) == 2


def test_one_observation_is_told_from_a_batch_and_batched():
    layout = ObsLayout(spaces.Tuple((spaces.Discrete(3), spaces.Box(-1, 1, (2,)))))
    one = (1, np.zeros(2, np.float32))
    assert layout.single(one) and not layout.single((np.array([1]), np.zeros((1, 2))))
    batch = layout.batch(one)
    assert layout.count(batch) == 1 and layout.flatten(batch).shape == (1, 5)
    assert ObsLayout(spaces.Discrete(3)).single(2)


@pytest.mark.parametrize("space, where", [
    (spaces.Text(5), "observation space Text"),
    (spaces.Dict({"a": spaces.Box(-1, 1, (1,)), "t": spaces.Text(3)}), "observation entry 't'"),
    (spaces.Dict({"action_mask": spaces.MultiBinary(2)}), "no entries besides 'action_mask'"),
])
def test_unsupported_spaces_name_what_is_accepted(space, where):
    with pytest.raises(EnvError, match=where) as e:
        ObsLayout(space)
    assert "accepted: Box, Discrete, MultiDiscrete, MultiBinary, or a Dict / Tuple" in str(e.value)


def test_an_entry_it_cannot_encode_comes_with_how_to_leave_it_out():
    space = spaces.Dict({"image": spaces.Box(0, 255, (7, 7, 3), np.uint8),
                         "mission": spaces.Text(20)})
    with pytest.raises(EnvError) as e:
        ObsLayout(space)
    msg = str(e.value)
    assert "thermorl.envs.MaskObservation(env, hide=['mission'])" in msg
    assert ('--env_wrappers "[{thermorl.envs:MaskObservation: {hide: [mission]}}]"') in msg
    with pytest.raises(EnvError) as e:  # nothing to hide in a Tuple
        ObsLayout(spaces.Tuple((spaces.Discrete(2), spaces.Text(3))))
    assert "MaskObservation" not in str(e.value)


def test_the_hint_works_as_written():
    """The wrapper the hint names, built from the hint's own YAML, removes the entry."""
    import gymnasium as gym
    import yaml

    from thermorl.envs.wrappers import apply, parse

    class WithText(gym.Env):
        observation_space = spaces.Dict({"x": spaces.Box(-1, 1, (2,)), "note": spaces.Text(5)})
        action_space = spaces.Discrete(2)

        def reset(self, *, seed=None, options=None):
            return {"x": np.zeros(2, np.float32), "note": "hi"}, {}

    wrappers = parse(yaml.safe_load("[{thermorl.envs:MaskObservation: {hide: [note]}}]"), "w")
    env = apply(WithText(), wrappers)
    assert list(env.observation_space.spaces) == ["x"]
    assert ObsLayout(env.observation_space).dim == 2
    assert list(env.reset()[0]) == ["x"]
