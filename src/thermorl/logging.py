"""One `log(metrics, step)` call fans out to the CSV file, TensorBoard and memory; and tqdm's
progress bar for the terminal.

TensorBoard files come from tensorboardX, which needs only protobuf and numpy where
`torch.utils.tensorboard` needs the whole `tensorboard` app at runtime; we drive its synchronous
`EventsWriter` (one event per row) because `SummaryWriter` queues an event per scalar through a
worker thread (~5 ms per 30-metric row here) and its `flush()` leaves queued events unwritten.
"""

from __future__ import annotations

import atexit
import csv
import itertools
import math
import os
import sys
import time
import weakref
from pathlib import Path
from typing import Mapping, TextIO

from tensorboardX.event_file_writer import EventsWriter
from tensorboardX.proto.event_pb2 import Event, SessionLog
from tensorboardX.proto.summary_pb2 import Summary
from tqdm import tqdm

from .errors import ThermorlError, writing

__all__ = ["CSVWriter", "ProgressBar", "RunLogger"]

TB_FLUSH_SECS = 10.0  # `log` flushes the event file when this long has passed since the last flush


class CSVWriter:
    """`metrics.csv`: a row per call. A key seen for the first time widens the header, which
    rewrites the (small) file once; earlier rows get blanks in the new column. Rewrites go
    through a temp file and a rename, so a crash or a full disk mid-rewrite keeps the old file."""

    def __init__(self, path: Path):
        self.path = path
        self.keys: list[str] = []
        if path.is_file():  # a resumed run appends under its existing header
            with path.open(newline="") as f:
                self.keys = next(csv.reader(f), [])

    def _rows(self) -> list[dict[str, str]]:
        if not self.path.is_file():
            return []
        with self.path.open(newline="") as f:
            return list(csv.DictReader(f))

    def _replace(self, rows: list[dict[str, str]]) -> None:
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        try:
            with tmp.open("w", newline="") as f:
                w = csv.DictWriter(f, self.keys)
                w.writeheader()
                w.writerows(rows)
            os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)

    def write(self, row: Mapping[str, float]) -> None:
        with writing(self.path):
            new = [k for k in row if k not in self.keys]
            if new:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                old_rows = self._rows()
                self.keys += new
                self._replace(old_rows)
            with self.path.open("a", newline="") as f:
                csv.DictWriter(f, self.keys).writerow({k: _fmt(v) for k, v in row.items()})

    def drop_after(self, step: int) -> int:
        """Remove the rows logged beyond `step` (by a run killed after its last checkpoint, which
        a resumed run logs again), so `global_step` stays monotonic; returns how many."""
        rows = self._rows()
        kept = rows_up_to(rows, step)
        if len(kept) < len(rows):
            with writing(self.path):
                self._replace(kept)
        return len(rows) - len(kept)


def rows_up_to(rows: list[dict[str, str]], step: int) -> list[dict[str, str]]:
    """The rows whose `global_step` is at most `step` (rows without one are kept)."""
    def step_of(row: dict[str, str]) -> float:
        try:
            return float(row.get("global_step") or "nan")
        except ValueError:
            return math.nan
    return [r for r in rows if not step_of(r) > step]


def _fmt(v: float) -> str:
    return "" if v is None else repr(float(v)) if isinstance(v, float) else str(v)


# Event file names hold the second they were made in; this keeps two files of one process made
# within the same second apart, and in the order they were made (TensorBoard reads them sorted).
_FILE_SERIAL = itertools.count()


class _TBWriter:
    """One event file in `logdir`: an event per `write` holding its scalars, NaN and None left out."""

    def __init__(self, logdir: Path, first_step: int):
        with writing(logdir):
            logdir.mkdir(parents=True, exist_ok=True)
            earlier = any(logdir.glob("*tfevents*"))
            self.events = EventsWriter(str(logdir / "events"),
                                       f".{os.getpid()}.{next(_FILE_SERIAL):04d}.thermorl")
        self.path = Path(getattr(self.events, "_file_name", logdir))  # for messages
        with writing(self.path):
            self._start(earlier, first_step)
        self.last_flush = time.monotonic()

    def _start(self, earlier: bool, first_step: int) -> None:
        if earlier:
            # A resumed run (or a second one in the same directory): a session start at this
            # step makes TensorBoard drop the earlier files' points from here on, e.g. those the
            # interrupted run logged after the checkpoint it is resumed from.
            self.events.write_event(Event(wall_time=time.time(), step=first_step,
                                          session_log=SessionLog(status=SessionLog.START)))
        self.events.flush()

    def write(self, metrics: Mapping[str, float | None], step: int) -> None:
        values = []
        for tag, v in metrics.items():
            if v is None:
                continue
            v = float(v)
            if not math.isnan(v):  # float32 on disk: beyond its range becomes +-inf
                values.append(Summary.Value(tag=tag, simple_value=v))
        with writing(self.path):
            self.events.write_event(Event(wall_time=time.time(), step=int(step),
                                          summary=Summary(value=values)))
        if time.monotonic() - self.last_flush > TB_FLUSH_SECS:
            self.flush()

    def flush(self) -> None:
        with writing(self.path):
            self.events.flush()
        self.last_flush = time.monotonic()

    def close(self) -> None:
        with writing(self.path):
            self.events.close()


class RunLogger:
    """Writes into `run_dir` when given; always keeps the latest metrics and their history.

    The TensorBoard file in `run_dir/tb` is opened at the first `log` and closed by `close`
    (which may be called any number of times); a `log` after `close` opens a new file there.
    """

    def __init__(self, run_dir: str | Path | None = None, tensorboard: bool = True):
        self.latest: dict[str, float] = {}
        self.history: list[dict[str, float]] = []
        self.csv: CSVWriter | None = None
        self.tb_dir: Path | None = None
        self._tb: _TBWriter | None = None
        if run_dir is not None:  # nothing is created before the first `log`
            run_dir = Path(run_dir)
            self.csv = CSVWriter(run_dir / "metrics.csv")
            self.tb_dir = run_dir / "tb" if tensorboard else None

    def log(self, metrics: Mapping[str, float], step: int) -> None:
        row = {"global_step": step, **metrics}
        self.latest.update(metrics)
        self.history.append(row)
        if self.csv is not None:
            self.csv.write(row)
        if self.tb_dir is not None:
            if self._tb is None:
                self._tb = _TBWriter(self.tb_dir, step)
                _OPEN.add(self)
            self._tb.write(metrics, step)

    def drop_after(self, step: int) -> None:
        """Forget the CSV rows beyond `step` (see CSVWriter.drop_after); TensorBoard needs no
        such edit: the next event file starts with a session start at its first step."""
        if self.csv is not None:
            self.csv.drop_after(step)

    def flush(self) -> None:
        if self._tb is not None:
            self._tb.flush()

    def close(self) -> None:
        tb, self._tb = self._tb, None
        if tb is not None:
            _OPEN.discard(self)
            tb.close()


# Loggers with an open event file, closed at exit so that nothing buffered is lost when a
# script never calls `close`.
_OPEN: weakref.WeakSet[RunLogger] = weakref.WeakSet()


@atexit.register
def _close_open_loggers() -> None:
    for logger in list(_OPEN):
        try:
            logger.close()
        except ThermorlError as e:  # too late to act on; say it in one line, not a traceback
            print(f"thermorl: error: {e}", file=sys.stderr)


class _Bar(tqdm):
    """tqdm whose postfix is made from the latest metrics only when the bar is drawn."""

    monitor_interval = 0  # no monitor thread: we refresh by time on every update

    def __init__(self, *args, metrics: Mapping[str, float], **kwargs):
        self.metrics = metrics  # before tqdm's first draw, which happens in its __init__
        super().__init__(*args, **kwargs)

    @property
    def format_dict(self):  # tqdm's documented hook for custom fields
        d = super().format_dict
        d["postfix"] = _postfix(self.metrics)
        return d


def _postfix(metrics: Mapping[str, float]) -> str:
    parts = []
    if metrics.get("episode/return") is not None:
        parts.append(f"return={metrics['episode/return']:.1f}")
    parts += [f"H[{k[len('entropy/'):]}]={v:.3f}" for k, v in metrics.items()
              if k.startswith("entropy/") and v is not None]
    return ", ".join(parts)


class ProgressBar:
    """A live one-line bar of env steps: done/total, steps/s, ETA, the recent episode return
    and each head's entropy. `mode`: "on", "off", or "auto" (on only when `stream`, stderr by
    default, is a terminal). `update` takes the absolute step; a resumed run starts at its own."""

    def __init__(self, total: int, label: str, mode: str = "auto", stream: TextIO | None = None,
                 mininterval: float = 0.25):
        self.stream = stream if stream is not None else sys.stderr
        isatty = getattr(self.stream, "isatty", None)
        self.enabled = mode == "on" or (mode == "auto" and isatty is not None and isatty())
        self.total, self.label, self.mininterval = total, label, mininterval
        self._bar: _Bar | None = None  # made at the first update, so rates count from there

    def update(self, step: int, metrics: Mapping[str, float]) -> None:
        if not self.enabled:
            return
        bar = self._bar
        if bar is None:
            bar = self._bar = _Bar(total=self.total, initial=step, desc=self.label,
                                   unit=" steps", unit_scale=True, file=self.stream,
                                   mininterval=self.mininterval, miniters=1,
                                   dynamic_ncols=True, leave=True, metrics=metrics)
        bar.metrics = metrics
        bar.update(step - bar.n)  # draws only when `mininterval` has passed

    def close(self) -> None:
        bar, self._bar = self._bar, None
        if bar is not None:
            bar.close()  # draws the final state and ends the line
