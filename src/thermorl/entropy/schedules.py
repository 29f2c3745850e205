"""Schedules: a value as a function of training progress p, 0 at the start and 1 at the end.

Written in configs as a number (constant), `{start, end, shape}` with shape linear, exponential or
cosine, or `{staged: [[p0, v0], [p1, v1], ...]}` (v_i from progress p_i on; p0 must be 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError

SHAPES = ("constant", "linear", "exponential", "cosine", "staged")


@dataclass(frozen=True)
class Schedule:
    shape: str
    start: float
    end: float
    steps: tuple[tuple[float, float], ...] = ()

    def __call__(self, progress: float) -> float:
        p = min(max(progress, 0.0), 1.0)
        if self.shape == "constant":
            return self.start
        if self.shape == "linear":
            return self.start + (self.end - self.start) * p
        if self.shape == "exponential":  # geometric: equal ratios in equal progress
            return self.start * (self.end / self.start) ** p
        if self.shape == "cosine":
            return self.end + (self.start - self.end) * 0.5 * (1.0 + math.cos(math.pi * p))
        value = self.steps[0][1]
        for at, v in self.steps:
            if p >= at:
                value = v
        return value

    @property
    def values(self) -> list[float]:
        """Every value the schedule can take at its ends or steps (for validation)."""
        return [v for _, v in self.steps] if self.shape == "staged" else [self.start, self.end]


def constant(v: float) -> Schedule:
    return Schedule("constant", float(v), float(v))


def _num(path: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ConfigError(f"{path}: expected a finite number, got {v!r}")
    return float(v)


def parse(value: Any, path: str = "schedule") -> Schedule:
    """A schedule from its config form; errors name `path` and the accepted forms."""
    forms = ("a number, {start: A, end: B, shape: linear|exponential|cosine}, or "
             "{staged: [[0, A], [0.5, B], ...]}")
    if isinstance(value, Schedule):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return constant(_num(path, value))
    if isinstance(value, (list, tuple)):
        value = {"staged": value}
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: expected {forms}, got {value!r}")
    if "staged" in value or value.get("shape") == "staged":
        extra = set(value) - {"staged", "shape"}
        steps_raw = value.get("staged")
        if extra or not isinstance(steps_raw, (list, tuple)) or not steps_raw:
            raise ConfigError(f"{path}: a staged schedule is {{staged: [[progress, value], ...]}}, "
                              f"got {value!r}")
        steps = []
        for s in steps_raw:
            if not isinstance(s, (list, tuple)) or len(s) != 2:
                raise ConfigError(f"{path}: each stage is [progress, value], got {s!r}")
            steps.append((_num(path, s[0]), _num(path, s[1])))
        ps = [p for p, _ in steps]
        if ps[0] != 0.0 or ps != sorted(ps) or not all(0 <= p <= 1 for p in ps):
            raise ConfigError(f"{path}: stage progresses must start at 0, rise, and stay within "
                              f"[0, 1], got {ps}")
        return Schedule("staged", steps[0][1], steps[-1][1], tuple(steps))
    unknown = set(value) - {"start", "end", "shape"}
    if unknown or "start" not in value:
        raise ConfigError(f"{path}: expected {forms}, got {value!r}")
    shape = value.get("shape", "linear")
    if shape not in SHAPES[:4]:
        raise ConfigError(f"{path}: unknown schedule shape {shape!r}; accepted: "
                          + ", ".join(SHAPES))
    start = _num(f"{path}.start", value["start"])
    end = _num(f"{path}.end", value.get("end", start))
    if shape == "exponential" and (start == 0 or end == 0 or (start > 0) != (end > 0)):
        raise ConfigError(f"{path}: an exponential schedule needs start and end of the same sign "
                          f"and nonzero, got start={start}, end={end}")
    return Schedule(shape, start, end)


def to_config(s: Schedule) -> Any:
    """The config form of a schedule (round-trips through `parse`)."""
    if s.shape == "constant":
        return s.start
    if s.shape == "staged":
        return {"staged": [list(x) for x in s.steps]}
    return {"start": s.start, "end": s.end, "shape": s.shape}
