"""Small envs over every action-space kind thermorl supports, registered as ThermorlSpaces/*.

Rewards are cheap functions of the action so that a run has something to learn; what the
tests check is that each kind trains, evaluates and checkpoints end to end."""

import gymnasium as gym
import numpy as np
from gymnasium import spaces

D2, BOX = spaces.Discrete(3), spaces.Box(-1.0, 1.0, (2,), np.float32)
ACTION_SPACES = {
    "discrete": D2,
    "box": BOX,
    "multidiscrete": spaces.MultiDiscrete([3, 4]),
    "multibinary": spaces.MultiBinary(3),
    "dict": spaces.Dict({"maneuver": spaces.Discrete(5), "fire": spaces.Discrete(2),
                         "throttle": spaces.Box(-1.0, 1.0, (1,), np.float32)}),
    "tuple": spaces.Tuple((D2, BOX)),
    "nested": spaces.Dict({"move": spaces.Tuple((D2, BOX)),
                           "weapons": spaces.Dict({"fire": spaces.MultiBinary(2)})}),
    "parameterized": spaces.Dict({"kind": spaces.Discrete(2),
                                  "jump": spaces.Box(-1.0, 1.0, (1,), np.float32),
                                  "run": spaces.Box(-1.0, 1.0, (2,), np.float32)}),
}


class SpaceEnv(gym.Env):
    """`kind` picks the action space; `mask` in (None, "info", "obs", "bad_shape", "empty")."""

    def __init__(self, kind="discrete", mask=None, length=8):
        self.kind, self.mask, self.length = kind, mask, length
        self.action_space = ACTION_SPACES[kind]
        obs = spaces.Box(-1.0, 1.0, (4,), np.float32)
        if mask == "obs":
            m = (spaces.Dict({"maneuver": spaces.MultiBinary(5), "fire": spaces.MultiBinary(2)})
                 if kind == "dict" else spaces.MultiBinary(self._mask_len()))
            self.observation_space = spaces.Dict({"observation": obs, "action_mask": m})
        else:
            self.observation_space = obs

    def _mask_len(self):
        return {"discrete": 3, "multidiscrete": 7}[self.kind]

    def _mask(self):
        t = self.t
        if self.kind == "dict":
            m = {"maneuver": np.array([True, t % 2 == 0, True, False, True]),
                 "fire": np.array([True, t % 3 != 0])}
            if self.mask == "bad_shape":
                m["fire"] = np.ones(3, bool)
            if self.mask == "empty" and t == 3:
                m["fire"] = np.zeros(2, bool)
            return m
        if self.kind == "multidiscrete":
            return np.array([True, False, True, True, True, False, t % 2 == 0])
        return np.array([True, False, t % 2 == 0])

    def _out(self):
        o = self.np_random.uniform(-1, 1, 4).astype(np.float32)
        if self.mask == "obs":
            m = self._mask()
            m = ({k: v.astype(np.int8) for k, v in m.items()} if isinstance(m, dict)
                 else m.astype(np.int8))
            return {"observation": o, "action_mask": m}, {}
        return o, ({"action_mask": self._mask()} if self.mask else {})

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self._out()

    def step(self, action):
        if self.mask:
            self._check_masked(action)
        self.t += 1
        obs, info = self._out()
        reward = float(np.tanh(np.sum([np.sum(np.asarray(a, np.float64))
                                       for a in _leaves(action)])))
        return obs, reward, False, self.t >= self.length, info

    def _check_masked(self, action):
        """Masked actions must never reach the env."""
        m = self._mask()
        if self.kind == "dict":
            assert m["maneuver"][int(action["maneuver"])], ("masked maneuver", action, self.t)
            assert m["fire"][int(action["fire"])], ("masked fire", action, self.t)
        elif self.kind == "multidiscrete":
            a = np.asarray(action)
            assert m[:3][a[0]] and m[3:][a[1]], ("masked multidiscrete", action)
        else:
            assert m[int(action)], ("masked action", action, self.t)


def _leaves(a):
    if isinstance(a, dict):
        for v in a.values():
            yield from _leaves(v)
    elif isinstance(a, tuple):
        for v in a:
            yield from _leaves(v)
    else:
        yield a


for _kind in ACTION_SPACES:
    gym.register(f"ThermorlSpaces/{_kind}-v0", entry_point=SpaceEnv, kwargs={"kind": _kind})
for _kind in ("discrete", "multidiscrete", "dict"):
    for _mode in ("info", "obs"):
        gym.register(f"ThermorlSpaces/{_kind}-mask-{_mode}-v0", entry_point=SpaceEnv,
                     kwargs={"kind": _kind, "mask": _mode})
for _mode in ("bad_shape", "empty"):
    gym.register(f"ThermorlSpaces/dict-mask-{_mode}-v0", entry_point=SpaceEnv,
                 kwargs={"kind": "dict", "mask": _mode})
