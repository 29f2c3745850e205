"""Callbacks: code of yours that `learn(callbacks=[...])` calls at fixed points of training.

Subclass `Callback` and override the hooks you need. Each hook gets the algorithm (its
`config`, `global_step`, `updates`, `set_target`, `save`, ...) and returns nothing, or `False`
to stop training cleanly: the current step finishes, the final evaluation runs and, with a run
directory, the checkpoint and summary are written, and `learn()` returns as if it had reached
its total (`algo.stopped_by` names the callback).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

if TYPE_CHECKING:
    from .algos.base import Algorithm


class Callback:
    def on_rollout_end(self, algo: Algorithm) -> bool | None:
        """After each collection phase: a PPO rollout, a SAC batch of env steps."""

    def on_update_end(self, algo: Algorithm, metrics: Mapping[str, float]) -> bool | None:
        """After each row of metrics (a PPO update, a SAC round of `log_interval` steps), with
        that row as it goes to metrics.csv and TensorBoard."""

    def on_eval_end(self, algo: Algorithm, result: Mapping[str, Any]) -> bool | None:
        """After each periodic evaluation, with `algo.evaluate()`'s result."""

    def on_checkpoint(self, algo: Algorithm, path: Path) -> bool | None:
        """After each checkpoint written during `learn()`."""


class CallbackList:
    """Calls every callback's hook in order; remembers the first that asked to stop."""

    def __init__(self, callbacks: Iterable[Callback] = ()):
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be thermorl.Callback instances, got "
                                f"{type(cb).__name__}")
        self.stopped_by: str | None = None

    def _call(self, hook: str, *args: Any) -> None:
        for cb in self.callbacks:
            if getattr(cb, hook)(*args) is False and self.stopped_by is None:
                self.stopped_by = f"{type(cb).__name__}.{hook}"

    def rollout_end(self, algo: Algorithm) -> None:
        if self.callbacks:
            self._call("on_rollout_end", algo)

    def update_end(self, algo: Algorithm, metrics: Mapping[str, float]) -> None:
        if self.callbacks:
            self._call("on_update_end", algo, metrics)

    def eval_end(self, algo: Algorithm, result: Mapping[str, Any]) -> None:
        if self.callbacks:
            self._call("on_eval_end", algo, result)

    def checkpoint(self, algo: Algorithm, path: Path) -> None:
        if self.callbacks:
            self._call("on_checkpoint", algo, path)


class StopOnReturn(Callback):
    """Stop once `metric` (a key of the metrics rows, `eval/mean_return` by default, or
    `episode/return` for the training episodes) reaches `threshold`."""

    def __init__(self, threshold: float, metric: str = "eval/mean_return"):
        self.threshold, self.metric = threshold, metric

    def on_update_end(self, algo: Algorithm, metrics: Mapping[str, float]) -> bool | None:
        v = metrics.get(self.metric)
        return False if v is not None and v >= self.threshold else None
