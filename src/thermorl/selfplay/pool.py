"""`OpponentPool`: which opponent a self-play learner faces, on a schedule of env steps.

The caller reports the learner's global step. Every `save_steps` steps the pool keeps a frozen
copy of the learner's weights (`snapshot-<step>`), the newest `window` of them; every
`swap_steps` steps it draws the next opponent: `latest` (the learner as it is at that moment)
with probability `latest_ratio`, otherwise one of the snapshots or the scripted opponent.

Schedules count boundaries, not calls: an event happens at the first call whose step reaches
the next multiple of its period, so steps that advance by a rollout's length at a time neither
drift nor skip (several multiples crossed in one call give one event). The draw uses a numpy
generator the pool owns, saved with it, so a resumed run draws the same opponents.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Callable, Mapping

import numpy as np
import torch

from ..errors import ConfigError

LATEST = "latest"
SCRIPTED = "scripted"
SNAPSHOT_PREFIX = "snapshot-"


def opponent_probabilities(snapshots: list[str], latest_ratio: float,
                           scripted_weight: float = 0.0) -> dict[str, float]:
    """The chance of each opponent at one draw.

    P(latest) = latest_ratio; the rest, 1 - latest_ratio, is shared by the snapshots (weight 1
    each) and `scripted` (weight `scripted_weight`, left out when 0) in proportion to their
    weights. With neither snapshots nor a scripted opponent, latest is the only choice (P = 1).
    The keys are in the order latest, snapshots as given, scripted."""
    others = len(snapshots) + scripted_weight
    if others == 0:
        return {LATEST: 1.0}
    rest = (1.0 - latest_ratio) / others
    probs = {LATEST: latest_ratio, **{s: rest for s in snapshots}}
    if scripted_weight > 0:
        probs[SCRIPTED] = rest * scripted_weight
    return probs


def crossed(step: int, last: int, period: int) -> bool:
    """Whether `step` has reached a multiple of `period` that `last` (the step of the previous
    event) had not."""
    return step // period > last // period


def _integer(name: str, v: Any, low: int) -> int:
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < low:
        raise ConfigError(f"{name} must be an integer >= {low}, got {v!r}")
    return int(v)


def _number(name: str, v: Any, low: float, high: float = math.inf) -> float:
    ok = not isinstance(v, bool) and isinstance(v, numbers.Real) and math.isfinite(v)
    if not (ok and low <= v <= high):  # NaN fails the comparison too
        accepted = f"in [{low:g}, {high:g}]" if math.isfinite(high) else f">= {low:g}"
        raise ConfigError(f"{name} must be a finite number {accepted}, got {v!r}")
    return float(v)


class OpponentPool:
    """Frozen past selves, the latest self and optionally a scripted opponent, drawn on a
    schedule of env steps.

    Per step of the learner (`step` is its global env step, never decreasing):

        if pool.maybe_snapshot(step, policy.state_dict()): ...   # kept a copy
        name = pool.maybe_swap(step)
        if name is not None:                                     # a new opponent from now on
            load policy.state_dict() if name == LATEST, the scripted policy if name == SCRIPTED,
            else pool.weights(name)

    A swap draws anew at every swap time and returns the name even when it equals the previous
    one: `latest` then means the learner's weights at this swap, and the caller reloads them.

    The current opponent's weights stay available (`weights(pool.current)`) after the window
    drops its snapshot, until the next swap, so a run resumed from `state_dict` can rebuild the
    opponent it was facing. `save_steps`, `swap_steps`, `window`, `latest_ratio`,
    `scripted_weight` come from the constructor, not the state: a resumed run may change them
    (a smaller window keeps the newest snapshots)."""

    def __init__(self, save_steps: int, swap_steps: int, window: int, latest_ratio: float,
                 scripted_weight: float = 0.0, seed: int = 0):
        self.save_steps = _integer("save_steps", save_steps, 1)
        self.swap_steps = _integer("swap_steps", swap_steps, 1)
        self.window = _integer("window", window, 1)
        self.latest_ratio = _number("latest_ratio", latest_ratio, 0.0, 1.0)
        self.scripted_weight = _number("scripted_weight", scripted_weight, 0.0)
        self._rng = np.random.default_rng(_integer("seed", seed, 0))
        self._snapshots: dict[str, dict[str, torch.Tensor]] = {}  # window + current if evicted
        self._window: list[str] = []  # oldest first
        self._current = LATEST
        self._last_save = 0
        self._last_swap = 0

    @property
    def current(self) -> str:
        """The opponent's name: `latest`, `scripted` or `snapshot-<step>`."""
        return self._current

    @property
    def snapshots(self) -> list[str]:
        """The snapshots in the window, oldest first."""
        return list(self._window)

    @property
    def names(self) -> list[str]:
        """The opponents in the pool now: latest, the window's snapshots (oldest first), and
        scripted when its weight is above 0 (latest is there even at latest_ratio 0: it is what
        a draw gives while nothing else is)."""
        return list(self.probabilities())

    def probabilities(self) -> dict[str, float]:
        """The chance of each opponent at the next draw (see `opponent_probabilities`)."""
        return opponent_probabilities(self._window, self.latest_ratio, self.scripted_weight)

    def weights(self, name: str) -> dict[str, torch.Tensor]:
        """The stored weights of snapshot `name` (the pool's CPU copies: load them, do not
        modify them). `latest` and `scripted` have none here: the first is the learner's own,
        the second is not a network."""
        if name in (LATEST, SCRIPTED):
            raise KeyError(f"{name!r} has no weights in the pool: "
                           + ("use the learner's current weights" if name == LATEST
                              else "it is the scripted policy"))
        if name not in self._snapshots:
            raise KeyError(f"no snapshot {name!r} in the pool; it holds: "
                           f"{', '.join(self._snapshots) or 'none'}")
        return dict(self._snapshots[name])

    def maybe_snapshot(self, step: int, weights: Mapping[str, torch.Tensor],
                       admit: Callable[[str], bool] | None = None) -> bool:
        """Keep a CPU copy of `weights` as `snapshot-<step>` if `step` reached the next multiple
        of `save_steps`; the oldest snapshot leaves once there are more than `window`. Returns
        whether a copy was kept.

        `admit`, if given, is asked at a save time while the window holds a snapshot, with the
        newest one's name; a False answer skips this save (the next comes `save_steps` later)."""
        if not crossed(step, self._last_save, self.save_steps):
            return False
        self._last_save = step
        if admit is not None and self._window and not admit(self._window[-1]):
            return False
        copy = {}
        for k, v in weights.items():
            if not isinstance(v, torch.Tensor):
                raise TypeError(f"weights[{k!r}] is a {type(v).__name__}, not a tensor")
            copy[k] = v.detach().to("cpu", copy=True)
        name = f"{SNAPSHOT_PREFIX}{step}"
        self._snapshots[name] = copy
        self._window.append(name)
        self._evict()
        return True

    def maybe_swap(self, step: int) -> str | None:
        """Draw the next opponent if `step` reached the next multiple of `swap_steps`: its name,
        or None between swaps."""
        if not crossed(step, self._last_swap, self.swap_steps):
            return None
        self._last_swap = step
        probs = self.probabilities()
        names = list(probs)
        # one uniform per swap whatever the pool holds: the generator's position depends only
        # on how many swaps there were, not on the window's size at each
        u = self._rng.random()
        cum = np.cumsum(list(probs.values()))
        pick = names[min(int(np.searchsorted(cum, u, side="right")), len(names) - 1)]
        self._current = pick
        self._evict()  # a snapshot the window had dropped while it was current goes now
        return pick

    def _evict(self) -> None:
        del self._window[:-self.window]
        keep = set(self._window) | {self._current}
        for name in [n for n in self._snapshots if n not in keep]:
            del self._snapshots[name]

    def state_dict(self) -> dict[str, Any]:
        """Tensors and plain data only (`torch.load(weights_only=True)` reads it back): the
        snapshots, the window's order, the opponent, the last event steps, the generator."""
        return {
            "snapshots": {n: dict(w) for n, w in self._snapshots.items()},
            "window": list(self._window), "current": self._current,
            "last_save": self._last_save, "last_swap": self._last_swap,
            # PCG64's state is two 128-bit Python ints: pickle and the weights-only loader keep
            # them exactly (a test pins the round trip)
            "rng": self._rng.bit_generator.state,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        snapshots = {n: {k: v.to("cpu") for k, v in w.items()}  # a map_location put them elsewhere
                     for n, w in state["snapshots"].items()}
        window, current = list(state["window"]), str(state["current"])
        missing = [n for n in window + [current] if n not in snapshots
                   and n not in (LATEST, SCRIPTED)]
        if missing:
            raise ValueError(f"OpponentPool state names snapshots it does not hold: {missing}")
        rng_state = state["rng"]
        kind = type(self._rng.bit_generator).__name__
        if rng_state.get("bit_generator") != kind:
            raise ValueError(f"OpponentPool state has a {rng_state.get('bit_generator')!r} "
                             f"generator; the pool uses {kind!r}")
        self._rng.bit_generator.state = rng_state
        self._snapshots, self._window, self._current = snapshots, window, current
        self._last_save, self._last_swap = int(state["last_save"]), int(state["last_swap"])
        self._evict()
