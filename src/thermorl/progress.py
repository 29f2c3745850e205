"""A one-line live progress bar on a terminal; silent when output is a log file."""

from __future__ import annotations

import sys
import time
from typing import Mapping, TextIO


def _clock(seconds: float) -> str:
    s = int(max(seconds, 0))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


class ProgressBar:
    def __init__(self, total: int, label: str, mode: str = "auto", stream: TextIO | None = None,
                 interval: float = 0.25):
        self.stream = stream or sys.stderr
        self.enabled = mode == "on" or (mode == "auto" and self.stream.isatty())
        self.total, self.label, self.interval = total, label, interval
        self.t0 = time.perf_counter()
        self.start_step: int | None = None
        self.last_draw = 0.0

    def update(self, step: int, metrics: Mapping[str, float], force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if self.start_step is None:
            self.start_step = step
        if not force and now - self.last_draw < self.interval:
            return
        self.last_draw = now
        frac = min(step / self.total, 1.0)
        width = 20
        bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
        rate = (step - self.start_step) / max(now - self.t0, 1e-9)
        parts = [f"{self.label} [{bar}] {frac:6.1%} {step:,}/{self.total:,}",
                 f"{rate:,.0f} steps/s"]
        if "episode/return" in metrics:
            parts.append(f"return {metrics['episode/return']:.1f}")
        parts += [f"H[{k.split('/', 1)[1]}] {v:.3f}" for k, v in metrics.items()
                  if k.startswith("entropy/")]
        if rate > 0:
            parts.append(f"ETA {_clock((self.total - step) / rate)}")
        self.stream.write("\r" + " | ".join(parts) + "\x1b[K")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
