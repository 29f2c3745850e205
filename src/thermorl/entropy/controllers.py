"""Per-head entropy coefficients: fixed, scheduled, or learned toward a target entropy.

A learned coefficient is a controller on the error e = (H_target - H) / scale, H detached and
`scale` the head's unit (log n, or one nat per dimension): it rises when entropy is below target
and falls above it, every minibatch.

- constraint `min` (SAC's H >= target): alpha = exp(log_alpha) stays positive, so it can add
  entropy but never remove it. The controller moves log_alpha.
- constraint `equal` (hold H at the target): the coefficient c is signed, |c| <= coef_max; a
  negative c penalizes entropy, which is what holds a target from above.
- controller `dual`: a gradient step (Adam, `lr`) on x * (H - H_target) / scale, x = c or
  log_alpha: an integral controller. It lags PPO's updates and oscillates.
- controller `pi`: x = x0 + kp * e + ki * sum(e), the integral clamped so that it alone cannot
  push x past its bounds (anti-windup). The proportional term reacts at once and damps the
  oscillation (as in PID-Lagrangian methods, Stooke et al., 2020).

A coefficient alone cannot promise a target (Adam moves a log-std by about the learning rate per
step whatever the coefficient), so a learned head also has an actuator by default
(`actuators.py`): after each optimizer step it moves the head's entropy parameters to the target
itself. The coefficient keeps running on what is left. When the actuator (or, without one, the
coefficient) sits at a bound while the entropy stays off target, the head says so once on stderr
and in `warn/entropy_unreachable/<head>`.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import Any, Mapping

import torch
from torch import Tensor, nn

from ..distributions.gaussian import HALF_LOG_2PIE
from ..envs.spaces import HeadSpec
from ..errors import ConfigError
from . import targets
from .actuators import Actuator, Correction
from .schedules import Schedule
from .targets import Target

@dataclass(frozen=True)
class HeadSettings:
    """One head's resolved entropy settings (defaults overlaid with its `heads:` entry)."""

    mode: str
    coef: Schedule
    target: Target
    constraint: str
    controller: str
    kp: float
    ki: float
    lr: float
    coef_min: float
    coef_max: float
    plateau: Mapping[str, float] | None
    collapse_fraction: float
    collapse_patience: int
    noise_beta: float = 0.0
    actuator: str = "coef"  # project: move the entropy parameters to the target (actuators.py)
    unreachable_patience: int = 10


# a learned head whose entropy stays further than this fraction of its scale from the target
# while its actuator (or coefficient) is at a bound is reported as unreachable
UNREACHABLE_FRACTION = 0.05


class HeadController:
    def __init__(self, name: str, spec: HeadSpec, s: HeadSettings):
        self.name, self.spec, self.s = name, spec, s
        self.scale = targets.scale(spec)
        self.target_override: float | None = None  # nats, from set_target()
        self.max_entropy: float | None = None  # under the latest action masks, if any
        self.plateau_mult = 1.0
        self.best_return = -math.inf
        self.smoothed_return: float | None = None
        self.stale_updates = 0
        self.start_entropy: float | None = None
        self.low_updates = 0
        self.collapsed = False
        self.actuator: Actuator | None = None
        self.saturated = False  # the actuator hit a bound since the last end_update
        self.moved = 0.0  # nats the actuator moved the entropy since the last end_update
        self.left_at: float | None = None  # the entropy the latest correction left the head at
        self.unreach_updates = 0
        self.unreachable = False
        c0 = s.coef(0.0)
        if s.mode == "learned" and s.constraint == "min":
            if c0 <= 0:
                raise ConfigError(f"entropy head {name!r}: a min-constraint coefficient starts "
                                  f"at alpha = coef > 0, got {c0}")
            c0 = min(max(c0, s.coef_min), s.coef_max)
            self.x0 = math.log(c0)
            self.lo, self.hi = math.log(s.coef_min), math.log(s.coef_max)
        else:
            self.x0 = c0
            self.lo, self.hi = -s.coef_max, s.coef_max
        if s.mode == "learned":
            self.x0 = min(max(self.x0, self.lo), self.hi)
        self.integral = 0.0
        self.x = torch.tensor(self.x0, dtype=torch.float64, requires_grad=True)
        self.opt = torch.optim.Adam([self.x], lr=s.lr) if s.controller == "dual" else None
        self._coef = self._from_x(self.x0)

    # -- the coefficient ------------------------------------------------------------------
    def _from_x(self, x: float) -> float:
        return math.exp(x) if self.s.mode == "learned" and self.s.constraint == "min" else x

    def coef(self, progress: float) -> float:
        return self._coef if self.s.mode == "learned" else self.s.coef(progress)

    # -- the target -----------------------------------------------------------------------
    def target(self, progress: float) -> float:
        """The target in nats now: set_target() wins, else the schedule times the plateau."""
        if self.target_override is not None:
            return self.target_override
        t = self.s.target
        return targets.to_nats(t.unit, t.value(progress) * self.plateau_mult, self.spec,
                               self.max_entropy)

    # -- learning the coefficient ---------------------------------------------------------
    def observe(self, entropy: float, progress: float, max_entropy: float | None = None) -> None:
        """One minibatch's mean entropy of this head (detached), for a learned coefficient, and
        the mean maximum entropy under its action masks (fraction targets follow it)."""
        if max_entropy is not None and math.isfinite(max_entropy):
            self.max_entropy = max_entropy
        if self.s.mode != "learned" or not math.isfinite(entropy):
            return
        err = (self.target(progress) - entropy) / self.scale
        if self.opt is not None:
            self.opt.zero_grad(set_to_none=True)
            # d/dx of x * (H - target) / scale is -err: descent raises x when H < target
            self.x.grad = torch.tensor(-err, dtype=torch.float64)
            self.opt.step()
            with torch.no_grad():
                self.x.clamp_(self.lo, self.hi)
            x = float(self.x.detach())
        else:
            ki = self.s.ki
            self.integral += err
            if ki > 0:  # anti-windup: the integral term alone stays within the bounds
                self.integral = min(max(self.integral, (self.lo - self.x0) / ki),
                                    (self.hi - self.x0) / ki)
            x = min(max(self.x0 + self.s.kp * err + ki * self.integral, self.lo), self.hi)
        self._coef = self._from_x(x)

    def actuate(self, progress: float, dist: object | None = None,
                weights: Tensor | None = None) -> Correction | None:
        """Move the head's entropy to its target now (see `actuators.py`)."""
        if self.actuator is None:
            return None
        corr = self.actuator.correct(self.target(progress), dist, weights)
        if corr is not None:
            self.saturated |= corr.saturated
            self.moved += corr.after - corr.before
            self.left_at = corr.after
        return corr

    def _coef_pinned(self) -> bool:
        if self.s.mode != "learned":
            return False
        x = math.log(self._coef) if self.s.constraint == "min" else self._coef
        return x <= self.lo + 1e-9 or x >= self.hi - 1e-9

    def end_update(self, entropy: float, episode_return: float | None,
                   progress: float = 0.0) -> None:
        """Once per update: plateau schedule, the collapse and the unreachable warnings."""
        self._plateau(episode_return)
        self._collapse(entropy)
        self._unreachable(entropy, progress)

    def _unreachable(self, h: float, progress: float) -> None:
        """`h`: the update's mean entropy; with an actuator, where its last correction left
        the head is what counts (the update's first minibatches may predate its reach)."""
        if self.s.mode != "learned":
            return
        if self.left_at is not None:
            h = self.left_at
        target = self.target(progress)
        off = (target - h) if self.s.constraint == "min" else abs(h - target)
        stuck = self.saturated if self.actuator is not None else self._coef_pinned()
        bad = off > UNREACHABLE_FRACTION * self.scale and stuck
        self.unreach_updates = self.unreach_updates + 1 if bad else 0
        if self.unreach_updates >= self.s.unreachable_patience and not self.unreachable:
            self.warn_unreachable(
                f"{h:.4f} nats, target {target:.4f} (off by {off / self.scale:.0%} of the head's "
                f"scale, {self.scale:.4g} nats) for {self.unreach_updates} updates", self._advice())

    def _advice(self) -> str:
        if self.actuator is None:
            return (f"its coefficient is pinned at its bound (coef_max {self.s.coef_max:g}); "
                    f"use entropy.actuator: project, or raise coef_max")
        if self.actuator.gaussian:
            return (f"its log-std is at a bound (policy.log_std_min/log_std_max "
                    f"{self.actuator.head.lo:g}/{self.actuator.head.hi:g})"
                    + (" or past where the squashed action's entropy peaks"
                       if self.actuator.squashed else "")
                    + "; choose a target within reach or widen the bounds")
        return "its logits cannot be scaled further; choose a target within (0, log n)"

    def warn_unreachable(self, now: str, advice: str) -> None:
        """Say once on stderr that this head cannot reach its target, and flag it."""
        if self.unreachable:
            return
        self.unreachable = True
        print(f"thermorl: warning: entropy of head {self.name!r} cannot reach its target: "
              f"{now}; {advice}", file=sys.stderr)

    def _plateau(self, ret: float | None) -> None:
        p = self.s.plateau
        if not p or ret is None or self.target_override is not None:
            return
        a = p.get("smoothing", 0.9)
        self.smoothed_return = ret if self.smoothed_return is None else (
            a * self.smoothed_return + (1 - a) * ret)
        if self.smoothed_return > self.best_return + p.get("min_delta", 0.0):
            self.best_return, self.stale_updates = self.smoothed_return, 0
            return
        self.stale_updates += 1
        if self.stale_updates >= p["patience"]:
            base = self.s.target.value(0.0)
            self.plateau_mult = max(self.plateau_mult * p["factor"], p["floor"] / base)
            self.stale_updates = 0

    def _collapse(self, h: float) -> None:
        if self.start_entropy is None:
            self.start_entropy = h
            return
        f = self.s.collapse_fraction
        if self.spec.discrete:
            low = h < f * self.start_entropy
        else:  # entropy of a Gaussian can be negative: compare per-dimension stds instead
            low = h < self.start_entropy + self.spec.dim * math.log(f)
        self.low_updates = self.low_updates + 1 if low else 0
        if self.low_updates >= self.s.collapse_patience and not self.collapsed:
            self.collapsed = True
            print(f"thermorl: warning: entropy of head {self.name!r} collapsed: {h:.4f} nats, "
                  f"below {f:g} of its start ({self.start_entropy:.4f}) for "
                  f"{self.low_updates} updates", file=sys.stderr)

    # -- checkpoints ----------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {"x": float(self.x.detach()), "coef": self._coef, "integral": self.integral,
                "opt": self.opt.state_dict() if self.opt else None,
                "target_override": self.target_override, "plateau_mult": self.plateau_mult,
                "best_return": self.best_return if math.isfinite(self.best_return) else None,
                "smoothed_return": self.smoothed_return, "stale_updates": self.stale_updates,
                "start_entropy": self.start_entropy, "low_updates": self.low_updates,
                "collapsed": self.collapsed, "unreach_updates": self.unreach_updates,
                "unreachable": self.unreachable}

    def load_state_dict(self, st: Mapping[str, Any]) -> None:
        with torch.no_grad():
            self.x.fill_(st["x"])
        self._coef, self.integral = st["coef"], st["integral"]
        if self.opt is not None and st["opt"] is not None:
            self.opt.load_state_dict(st["opt"])
        self.target_override, self.plateau_mult = st["target_override"], st["plateau_mult"]
        self.best_return = -math.inf if st["best_return"] is None else st["best_return"]
        self.smoothed_return, self.stale_updates = st["smoothed_return"], st["stale_updates"]
        self.start_entropy, self.low_updates = st["start_entropy"], st["low_updates"]
        self.collapsed = st["collapsed"]
        # checkpoints from before the unreachable warning lack these
        self.unreach_updates = st.get("unreach_updates", 0)
        self.unreachable = st.get("unreachable", False)


class EntropyControl:
    """Every head's controller, keyed by head name."""

    def __init__(self, settings: Mapping[str, HeadSettings], specs: Mapping[str, HeadSpec]):
        self.heads = {h: HeadController(h, specs[h], s) for h, s in settings.items()}
        self.actuated = False  # some head has an actuator (after attach)
        self.needs_data = False  # some head's actuator solves on the policy's outputs

    def attach(self, head_modules: Mapping[str, nn.Module], start_at_target: bool) -> None:
        """Give each learned head with `actuator: project` its actuator over the policy's head
        module; with `start_at_target` (no `policy.log_std_init` given), put each learned `equal`
        Gaussian head's initial log-std at its target's start. A Gaussian target outside what the
        log-std bounds allow is reported at once."""
        for h, c in self.heads.items():
            if c.s.mode != "learned":
                continue
            head = head_modules[h]
            act = Actuator(head, c.s.constraint)
            if c.s.actuator == "project":
                c.actuator, self.actuated = act, True
                self.needs_data |= act.needs_data
            if act.gaussian and start_at_target and c.s.constraint == "equal":
                act.start_at(c.target(0.0))
            if act.gaussian and not act.squashed and c.s.target.unit in ("std", "nats"):
                _check_reach(c, head.lo, head.hi)

    def actuate(self, progress: float, dists: Mapping[str, object] | None = None,
                weights: Mapping[str, Tensor] | None = None) -> None:
        """Every actuated head to its target: heads that need data only when `dists` (their
        minibatch distributions from before the optimizer step) and `weights` are given."""
        for h, c in self.heads.items():
            if c.actuator is not None:
                c.actuate(progress, (dists or {}).get(h), (weights or {}).get(h))

    def coefs(self, progress: float) -> dict[str, float]:
        return {h: c.coef(progress) for h, c in self.heads.items()}

    def observe(self, entropies: Mapping[str, float], progress: float,
                max_entropies: Mapping[str, float] | None = None) -> None:
        for h, c in self.heads.items():
            c.observe(entropies[h], progress, (max_entropies or {}).get(h))

    def end_update(self, entropies: Mapping[str, float], progress: float,
                   episode_return: float | None) -> dict[str, float]:
        out: dict[str, float] = {}
        for h, c in self.heads.items():
            moved = c.moved
            if math.isfinite(entropies[h]):
                c.end_update(entropies[h], episode_return, progress)
            out[f"alpha/{h}"] = c.coef(progress)
            out[f"target_entropy/{h}"] = c.target(progress)
            if c.s.mode == "learned" or c.target_override is not None:
                out[f"entropy_error/{h}"] = entropies[h] - c.target(progress)
            out[f"warn/entropy_collapse/{h}"] = float(c.collapsed)
            if c.s.mode == "learned":
                out[f"warn/entropy_unreachable/{h}"] = float(c.unreachable)
            if c.actuator is not None:
                out[f"actuator/{h}"] = moved
            c.saturated, c.moved, c.left_at = False, 0.0, None  # the next update's own
        return out

    def set_target(self, head: str, value: float | Mapping[str, float]) -> None:
        """Hold `head` at a new target from now on: nats, or {fraction: V} / {std: V}."""
        if head not in self.heads:
            raise ConfigError(f"set_target: no head {head!r}; heads: {', '.join(self.heads)}")
        c = self.heads[head]
        t = targets.parse(value if isinstance(value, Mapping) else {"nats": value},
                          f"set_target({head!r})")
        targets.check(t, c.spec, head, f"set_target({head!r})")
        c.target_override = targets.to_nats(t.unit, t.value(0.0), c.spec)

    def state_dict(self) -> dict[str, Any]:
        return {h: c.state_dict() for h, c in self.heads.items()}

    def load_state_dict(self, st: Mapping[str, Any]) -> None:
        for h, c in self.heads.items():
            c.load_state_dict(st[h])


def _check_reach(c: HeadController, lo: float, hi: float) -> None:
    """A plain Gaussian head reaches d * (0.5 log(2 pi e) + log sigma) for log sigma within the
    bounds and no more: a target value outside that is reported when the head is built (for
    `min`, only one above: entropy may always exceed a floor)."""
    d = c.spec.dim
    low, high = d * (HALF_LOG_2PIE + lo), d * (HALF_LOG_2PIE + hi)
    if c.s.constraint == "min":
        low = -math.inf
    t = c.s.target
    for v in t.value.values:
        nats = targets.to_nats(t.unit, v, c.spec)
        if not low - 1e-9 <= nats <= high + 1e-9:
            c.warn_unreachable(
                f"target {nats:.4f} nats ({t.unit} {v:g}) is outside [{low:.4f}, {high:.4f}], "
                f"what log-stds within policy.log_std_min/log_std_max {lo:g}/{hi:g} give",
                "choose a target inside that range or widen the bounds")
            return
