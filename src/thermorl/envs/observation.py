"""Hiding observation entries: `MaskObservation` turns a fully observed task into a partially
observed one (Pendulum without its angular velocity, say), the kind of task a recurrent policy
is for. Registered as `thermorl/MaskObservation-v0`, so it is usable from the command line:

    thermorl train thermorl/MaskObservation-v0 --env_kwargs "{env: Pendulum-v1, hide: [2]}"
"""

from __future__ import annotations

from typing import Any, Sequence

import gymnasium as gym
import numpy as np

from ..errors import EnvError
from .vector import check_env_id


class MaskObservation(gym.ObservationWrapper):
    """Removes the entries `hide` from every observation and from the observation space: indices
    of a 1-D Box (negative ones count from the end), or keys of a Dict. What is hidden is gone,
    not zeroed, so the policy's input is smaller and no constant column skews a normalizer."""

    def __init__(self, env: gym.Env, hide: int | str | Sequence[int | str]):
        super().__init__(env)
        space = env.observation_space
        wanted = [hide] if isinstance(hide, (int, str)) else list(hide)
        if not wanted:
            raise EnvError("MaskObservation: hide is empty; accepted: the indices (Box) or keys "
                           "(Dict) of the observation entries to hide")
        self._keep: np.ndarray | None = None
        self._hidden: set[str] = set()
        if isinstance(space, gym.spaces.Box) and len(space.shape) == 1:
            n = space.shape[0]
            bad = [i for i in wanted if isinstance(i, bool) or not isinstance(i, int)
                   or not -n <= i < n]
            if bad:
                raise EnvError(f"MaskObservation: cannot hide {bad[0]!r} of a {n}-entry Box "
                               f"observation; accepted: integers from {-n} to {n - 1}")
            hidden = {i % n for i in wanted}
            self._keep = np.array([i for i in range(n) if i not in hidden])
            if len(self._keep) == 0:
                raise EnvError(f"MaskObservation: hide {wanted} leaves no observation entry")
            self.observation_space = gym.spaces.Box(space.low[self._keep],
                                                    space.high[self._keep], dtype=space.dtype)
        elif isinstance(space, gym.spaces.Dict):
            bad = [k for k in wanted if k not in space.spaces]
            if bad:
                raise EnvError(f"MaskObservation: the observation has no entry {bad[0]!r}; "
                               f"accepted: {', '.join(map(repr, space.spaces))}")
            self._hidden = set(wanted)
            kept = {k: s for k, s in space.spaces.items() if k not in self._hidden}
            if not kept:
                raise EnvError(f"MaskObservation: hide {wanted} leaves no observation entry")
            self.observation_space = gym.spaces.Dict(kept)
        else:
            raise EnvError(f"MaskObservation: observation space {space} is not supported; "
                           f"accepted: a 1-D Box or a Dict")

    def observation(self, observation: Any) -> Any:
        if self._keep is not None:
            return observation[self._keep]
        return {k: v for k, v in observation.items() if k not in self._hidden}


def make_masked(env: str, hide: int | str | Sequence[int | str], **env_kwargs: Any) -> gym.Env:
    """`env` (an id gymnasium.make accepts, `module:EnvId` included, made with `env_kwargs`)
    with the entries `hide` removed from its observations."""
    return MaskObservation(gym.make(check_env_id(env), **env_kwargs), hide)
