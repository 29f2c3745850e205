"""Tiny envs for the integration tests, registered on import so that the CLI can reach them as
`envs_for_tests:ThermorlTest/<Name>-v0` (the `module:EnvId` form)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces


class SignEnv(gym.Env):
    """Reward 1 when the action matches the sign of obs[0]. Episodes last `length` steps.
    With `nan_after=K`, the K-th call to step() (counted over the env's life) returns a NaN
    observation."""

    metadata: dict = {"render_modes": []}

    def __init__(self, length: int = 16, nan_after: int | None = None):
        self.observation_space = spaces.Box(-1.0, 1.0, (3,), np.float32)
        self.action_space = spaces.Discrete(2)
        self.length, self.nan_after = length, nan_after
        self.steps_taken = 0  # step() calls over the env's life, across episodes
        self._t = 0
        self._obs = np.zeros(3, np.float32)

    def _new_obs(self) -> np.ndarray:
        self._obs = self.np_random.uniform(-1, 1, 3).astype(np.float32)
        return self._obs.copy()

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._t = 0
        return self._new_obs(), {}

    def step(self, action):
        reward = float(int(action) == int(self._obs[0] > 0))
        self._t += 1
        self.steps_taken += 1
        obs = self._new_obs()
        if self.nan_after is not None and self.steps_taken >= self.nan_after:
            obs = np.full(3, np.nan, np.float32)
        return obs, reward, False, self._t >= self.length, {}


class SlowCloseEnv(SignEnv):
    """SignEnv whose close() takes `close_s` seconds: a shutdown long enough to send a second
    signal into."""

    def __init__(self, close_s: float = 2.0, **kwargs):
        super().__init__(**kwargs)
        self.close_s = close_s

    def close(self):
        import time

        time.sleep(self.close_s)
        super().close()


TINY_ID = "ThermorlTest/Sign-v0"
NAN_ID = "ThermorlTest/NaNObs-v0"
NAN_AFTER = 40  # step() calls per env before the NaN observation

if TINY_ID not in gym.registry:
    gym.register(TINY_ID, entry_point=SignEnv, kwargs={"length": 16})
if NAN_ID not in gym.registry:
    # Episodes far longer than the test runs, so every step() is a vector step (no resets) and
    # the NaN arrives at exactly global step NAN_AFTER * num_envs.
    gym.register(NAN_ID, entry_point=SignEnv, kwargs={"length": 10_000, "nan_after": NAN_AFTER})
SLOW_CLOSE_ID = "ThermorlTest/SlowClose-v0"
if SLOW_CLOSE_ID not in gym.registry:
    gym.register(SLOW_CLOSE_ID, entry_point=SlowCloseEnv, kwargs={"length": 16})


class SpotSideEnv(gym.Env):
    """An image (bytes, `side` x `side` x 3, or channels first with `channels_first`) of noise
    with one bright 4x4 spot somewhere in its left or right half; reward 1 when the action
    (0 left, 1 right) names the half. Episodes last `length` steps. With `flag`, the observation
    is a Dict of the image and a coin `flip` (Discrete(2)), and the action (Discrete(4)) names
    both, 2 * half + coin: a policy that ignores either entry earns half."""

    metadata: dict = {"render_modes": []}

    def __init__(self, side: int = 24, length: int = 8, channels_first: bool = False,
                 flag: bool = False):
        self.side, self.length, self.channels_first = side, length, channels_first
        shape = (3, side, side) if channels_first else (side, side, 3)
        image = spaces.Box(0, 255, shape, np.uint8)
        self.flag = flag
        self.observation_space = (spaces.Dict({"image": image, "flip": spaces.Discrete(2)})
                                  if flag else image)
        self.action_space = spaces.Discrete(4 if flag else 2)
        self._t, self._right, self._flip = 0, 0, 0

    def _new_obs(self) -> np.ndarray:
        rng, s = self.np_random, self.side
        img = rng.integers(0, 60, (s, s, 3), dtype=np.uint8)
        self._right = int(rng.integers(2))
        x = int(rng.integers(0, s // 2 - 4)) + self._right * (s // 2)
        y = int(rng.integers(0, s - 4))
        img[y:y + 4, x:x + 4] = 255
        img = np.ascontiguousarray(img.transpose(2, 0, 1)) if self.channels_first else img
        if not self.flag:
            return img
        self._flip = int(rng.integers(2))
        return {"image": img, "flip": self._flip}

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._t = 0
        return self._new_obs(), {}

    def step(self, action):
        reward = float(int(action) == (2 * self._right + self._flip if self.flag else self._right))
        self._t += 1
        return self._new_obs(), reward, False, self._t >= self.length, {}


SPOT_ID = "ThermorlTest/SpotSide-v0"
if SPOT_ID not in gym.registry:
    gym.register(SPOT_ID, entry_point=SpotSideEnv)


class ScaleReward(gym.RewardWrapper):
    """A wrapper of the tests' own, named as `envs_for_tests:ScaleReward` in `env_wrappers`."""

    def __init__(self, env: gym.Env, factor: float = 1.0):
        super().__init__(env)
        self.factor = factor

    def reward(self, reward):
        return self.factor * reward
