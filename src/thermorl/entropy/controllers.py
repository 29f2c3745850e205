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
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import Any, Mapping

import torch

from ..envs.spaces import HeadSpec
from ..errors import ConfigError
from . import targets
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

    def end_update(self, entropy: float, episode_return: float | None) -> None:
        """Once per update: plateau schedule and the collapse warning."""
        self._plateau(episode_return)
        self._collapse(entropy)

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
                "collapsed": self.collapsed}

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


class EntropyControl:
    """Every head's controller, keyed by head name."""

    def __init__(self, settings: Mapping[str, HeadSettings], specs: Mapping[str, HeadSpec]):
        self.heads = {h: HeadController(h, specs[h], s) for h, s in settings.items()}

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
            if math.isfinite(entropies[h]):
                c.end_update(entropies[h], episode_return)
            out[f"alpha/{h}"] = c.coef(progress)
            out[f"target_entropy/{h}"] = c.target(progress)
            if c.s.mode == "learned" or c.target_override is not None:
                out[f"entropy_error/{h}"] = entropies[h] - c.target(progress)
            out[f"warn/entropy_collapse/{h}"] = float(c.collapsed)
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

