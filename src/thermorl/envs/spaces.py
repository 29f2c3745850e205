"""From gymnasium spaces to named action heads, and back to the actions an env accepts.

A plain space is one head named `action`. `Dict` keys name heads and `Tuple` positions become
`0`, `1`, ...; nested composites join names with `/` (`weapons/fire`). `MultiDiscrete` and
`MultiBinary` are one head each, a product of independent categoricals whose entropy is the sum
over its dimensions, like a Gaussian head's.
"""

from __future__ import annotations

import math
import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping

import gymnasium as gym
import numpy as np

from ..errors import EnvError

SINGLE_HEAD = "action"
SEP = "/"
# Where an env gives masks: an `info` key, or a Dict observation's entry. Defined here, not in
# masks.py, because ObsLayout must leave the entry out and masks.py already imports this module.
ACTION_MASK_KEY = "action_mask"


@dataclass(frozen=True)
class HeadSpec:
    """One action head.

    - `categorical`: `n` choices, offset by `start` when sent;
    - `multicategorical`: independent choices with sizes `nvec` (offsets `starts`; `binary` for
      MultiBinary), sent in the env's `shape`;
    - `gaussian`: `dim` dimensions with the env's bounds; clipped to them only when sent, or
      with `squash` mapped through tanh onto them.
    """

    kind: str
    n: int = 0
    start: int = 0
    nvec: tuple[int, ...] = ()
    starts: tuple[int, ...] = ()
    binary: bool = False
    dim: int = 0
    low: np.ndarray | None = field(default=None, compare=False)
    high: np.ndarray | None = field(default=None, compare=False)
    shape: tuple[int, ...] = ()
    squash: bool = False

    @property
    def discrete(self) -> bool:
        return self.kind != "gaussian"

    @property
    def n_logits(self) -> int:
        return self.n if self.kind == "categorical" else int(sum(self.nvec))

    @property
    def max_entropy(self) -> float | None:
        """log n (sum of log n_i for a product head); None for a Gaussian (unbounded)."""
        if self.kind == "categorical":
            return math.log(self.n)
        if self.kind == "multicategorical":
            return float(sum(math.log(k) for k in self.nvec))
        return None

    @property
    def bounded(self) -> bool:
        return (self.low is not None and bool(np.all(np.isfinite(self.low)))
                and bool(np.all(np.isfinite(self.high))))


def _leaf(space: gym.Space, name: str, squash: bool) -> HeadSpec:
    if isinstance(space, gym.spaces.Discrete):
        if space.n < 1:
            raise EnvError(f"action head {name!r}: Discrete space with {space.n} actions")
        return HeadSpec("categorical", n=int(space.n), start=int(space.start))
    if isinstance(space, gym.spaces.MultiDiscrete):
        return HeadSpec("multicategorical", nvec=tuple(int(k) for k in space.nvec.reshape(-1)),
                        starts=tuple(int(s) for s in space.start.reshape(-1)),
                        shape=tuple(space.shape))
    if isinstance(space, gym.spaces.MultiBinary):
        k = int(np.prod(space.shape))
        return HeadSpec("multicategorical", nvec=(2,) * k, starts=(0,) * k, binary=True,
                        shape=tuple(np.atleast_1d(space.shape)))
    if isinstance(space, gym.spaces.Box) and np.issubdtype(space.dtype, np.floating):
        low = space.low.reshape(-1).astype(np.float32)
        high = space.high.reshape(-1).astype(np.float32)
        spec = HeadSpec("gaussian", dim=int(np.prod(space.shape)), low=low, high=high,
                        shape=tuple(space.shape))
        return dataclasses.replace(spec, squash=True) if squash and spec.bounded else spec
    raise EnvError(f"action head {name!r}: space {space} is not supported; accepted: Discrete, "
                   f"MultiDiscrete, MultiBinary, Box (float), and Dict / Tuple of these")


class ActionLayout:
    """The heads of an action space, and the way back to the (batched) action the env takes."""

    def __init__(self, space: gym.Space, squash: bool = False):
        self.space = space
        self.heads: dict[str, HeadSpec] = {}
        self._tree = self._walk(space, "", squash)
        if not self.heads:
            raise EnvError(f"action space {space} has no action heads")

    def _walk(self, space: gym.Space, prefix: str, squash: bool) -> Any:
        if isinstance(space, gym.spaces.Dict):
            return {k: self._walk(s, f"{prefix}{k}{SEP}", squash) for k, s in space.spaces.items()}
        if isinstance(space, gym.spaces.Tuple):
            return tuple(self._walk(s, f"{prefix}{i}{SEP}", squash)
                         for i, s in enumerate(space.spaces))
        name = prefix[:-1] if prefix else SINGLE_HEAD
        self.heads[name] = _leaf(space, name, squash)
        return name

    def to_env(self, actions: Mapping[str, np.ndarray]) -> Any:
        """Batched head actions (leading dim N) -> the vector env's batched action structure."""
        def build(node: Any) -> Any:
            if isinstance(node, dict):
                return {k: build(v) for k, v in node.items()}
            if isinstance(node, tuple):
                return tuple(build(v) for v in node)
            return _send(actions[node], self.heads[node])
        return build(self._tree)


def _send(a: np.ndarray, spec: HeadSpec) -> np.ndarray:
    n = a.shape[0]
    if spec.kind == "categorical":
        return a.astype(np.int64) + spec.start
    if spec.kind == "multicategorical":
        out = a.astype(np.int64) + np.asarray(spec.starts)
        return out.astype(np.int8).reshape((n,) + spec.shape) if spec.binary else \
            out.reshape((n,) + spec.shape)
    if spec.squash:  # the stored sample is the pre-tanh u; the env gets low..high
        a = spec.low + (np.tanh(a) + 1.0) * 0.5 * (spec.high - spec.low)
    else:  # clipped here and only here; the stored sample stays unclipped
        a = np.minimum(np.maximum(a, spec.low), spec.high)  # np.clip, at a third of its cost
    return a.astype(np.float32).reshape((n,) + spec.shape)


def head_specs(space: gym.Space, squash: bool = False) -> dict[str, HeadSpec]:
    return ActionLayout(space, squash).heads


@dataclass(frozen=True)
class ObsLeaf:
    """One entry of a composite observation: `path` the keys (Dict) and positions (Tuple) from
    the top, `name` the path joined with `/` (None for a plain observation), `dim` its width
    once encoded."""

    name: str | None
    path: tuple[Any, ...]
    space: gym.Space
    dim: int


_LEAF_SPACES = (gym.spaces.Box, gym.spaces.Discrete, gym.spaces.MultiDiscrete,
                gym.spaces.MultiBinary)
_ACCEPTED = ("Box, Discrete, MultiDiscrete, MultiBinary, or a Dict / Tuple of them (nested, a "
             f"top-level Dict optionally with '{ACTION_MASK_KEY}')")


def _leaf_dim(space: gym.Space) -> int:
    if isinstance(space, gym.spaces.Discrete):
        return int(space.n)
    if isinstance(space, gym.spaces.MultiDiscrete):
        return int(np.sum(space.nvec))
    return int(np.prod(space.shape))


def encode_leaf(space: gym.Space, x: Any) -> np.ndarray:
    """A batch of one entry as float32 [N, dim]: a Discrete value one-hot, a MultiDiscrete one
    one-hot per dimension side by side, Box and MultiBinary values as they are."""
    x = np.asarray(x)
    if isinstance(space, gym.spaces.Discrete):
        return _one_hot(x.astype(np.int64).reshape(-1, 1) - int(space.start), [int(space.n)])
    if isinstance(space, gym.spaces.MultiDiscrete):
        idx = x.astype(np.int64).reshape(x.shape[0], -1) - np.asarray(space.start).reshape(-1)
        return _one_hot(idx, [int(k) for k in np.asarray(space.nvec).reshape(-1)])
    return x.astype(np.float32).reshape(x.shape[0], -1)


def _one_hot(idx: np.ndarray, sizes: list[int]) -> np.ndarray:
    """[N, D] indices into D categories of `sizes` -> their one-hots side by side, written
    in place (an identity matrix per call would cost n x n a step: 250,000 floats for Taxi)."""
    out = np.zeros((idx.shape[0], sum(sizes)), np.float32)
    offsets = np.cumsum([0] + sizes[:-1])
    out[np.arange(idx.shape[0])[:, None], idx + offsets] = 1.0
    return out


class ObsLayout:
    """Observations as one flat float vector per env. Composite observations (Dict, Tuple,
    nested) are walked in order (a Dict's keys as gymnasium sorts them) and their entries
    encoded side by side (`encode_leaf`: Discrete one-hot, as SB3 and CleanRL do, since an index
    is not a magnitude). A top-level Dict may carry an `action_mask` entry, taken out here and
    read as masks."""

    def __init__(self, space: gym.Space):
        self.space = space
        self.leaves: list[ObsLeaf] = []
        if isinstance(space, (gym.spaces.Dict, gym.spaces.Tuple)):
            self._walk(space, ())
            if not self.leaves:
                raise EnvError(f"observation space {space} has no entries besides "
                               f"'{ACTION_MASK_KEY}'; accepted: {_ACCEPTED}")
        elif isinstance(space, _LEAF_SPACES):
            self.leaves.append(ObsLeaf(None, (), space, _leaf_dim(space)))
        else:
            raise EnvError(f"observation space {space} is not supported; accepted: {_ACCEPTED}")
        self.dim = sum(leaf.dim for leaf in self.leaves)
        # a plain Box needs no walking: flatten is a reshape (the common, fast case)
        self.plain_box = isinstance(space, gym.spaces.Box)

    def _walk(self, space: gym.Space, path: tuple[Any, ...]) -> None:
        if isinstance(space, gym.spaces.Dict):
            items: list[tuple[Any, gym.Space]] = [
                (k, s) for k, s in space.spaces.items() if path or k != ACTION_MASK_KEY]
        elif isinstance(space, gym.spaces.Tuple):
            items = list(enumerate(space.spaces))
        else:
            if not isinstance(space, _LEAF_SPACES):
                where = SEP.join(map(str, path))
                raise EnvError(f"observation entry {where!r}: {space} is not supported; "
                               f"accepted: {_ACCEPTED}{self._hide_hint(path)}")
            self.leaves.append(ObsLeaf(SEP.join(map(str, path)), path, space, _leaf_dim(space)))
            return
        for k, s in items:
            self._walk(s, path + (k,))

    def _hide_hint(self, path: tuple[Any, ...]) -> str:
        """How to train without a top-level Dict entry thermorl cannot encode (MiniGrid's text
        `mission`, say): the MaskObservation wrapper, in Python and on the command line."""
        if not isinstance(self.space, gym.spaces.Dict):
            return ""
        key = path[0]
        return (f". To train without it, wrap the env: thermorl.envs.MaskObservation(env, "
                f"hide=[{key!r}]), or on the command line --env_wrappers "
                f"\"[{{thermorl.envs:MaskObservation: {{hide: [{key}]}}}}]\" "
                f"(docs/observation_spaces.md)")

    @property
    def byte_valued(self) -> bool:
        """Is every value of the flat vector a whole number in 0-255: bytes (uint8 Box), one-hot
        (Discrete, MultiDiscrete) or 0/1 (MultiBinary)? Then it can be stored as bytes."""
        return all(not isinstance(leaf.space, gym.spaces.Box) or leaf.space.dtype == np.uint8
                   for leaf in self.leaves)

    @property
    def keys(self) -> list[str] | None:
        """The entries' names, in order (None for a plain observation)."""
        return None if self.leaves[0].name is None else [leaf.name for leaf in self.leaves]

    @staticmethod
    def pick(obs: Any, path: tuple[Any, ...]) -> Any:
        for k in path:
            obs = obs[k]
        return obs

    def flatten(self, obs: Any) -> np.ndarray:
        """Batched env observation -> float32 [N, dim]."""
        if self.plain_box:
            obs = np.asarray(obs, np.float32)
            return obs.reshape(obs.shape[0], -1)
        parts = [encode_leaf(leaf.space, self.pick(obs, leaf.path)) for leaf in self.leaves]
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)

    def single(self, obs: Any) -> bool:
        """Is `obs` one observation rather than a batch?"""
        leaf = self.leaves[0]
        return np.asarray(self.pick(obs, leaf.path)).shape == leaf.space.shape

    def batch(self, obs: Any) -> Any:
        """One observation as a batch of one (a composite mask entry, a dict by head, too)."""
        return _batch_of_one(obs)

    def count(self, obs: Any) -> int:
        """How many observations a batch holds. Read from an entry that is not the action mask:
        a composite mask is a dict by head (its length is the number of heads), and gymnasium
        sorts a Dict's keys, so `action_mask` often comes first."""
        return len(np.asarray(self.pick(obs, self.leaves[0].path)))


def _batch_of_one(x: Any) -> Any:
    if isinstance(x, Mapping):
        return {k: _batch_of_one(v) for k, v in x.items()}
    if isinstance(x, tuple):
        return tuple(_batch_of_one(v) for v in x)
    return np.asarray(x)[None]
