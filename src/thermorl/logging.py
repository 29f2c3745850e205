"""One `log(metrics, step)` call fans out to the CSV file, TensorBoard and memory."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Mapping

from .tensorboard import EventWriter


class CSVWriter:
    """`metrics.csv`: a row per call. A key seen for the first time widens the header, which
    rewrites the (small) file once; earlier rows get blanks in the new column."""

    def __init__(self, path: Path):
        self.path = path
        self.keys: list[str] = []
        if path.is_file():  # a resumed run appends under its existing header
            with path.open(newline="") as f:
                self.keys = next(csv.reader(f), [])

    def write(self, row: Mapping[str, float]) -> None:
        new = [k for k in row if k not in self.keys]
        if new:
            old_rows = []
            if self.path.is_file():
                with self.path.open(newline="") as f:
                    old_rows = list(csv.DictReader(f))
            self.keys += new
            with self.path.open("w", newline="") as f:
                w = csv.DictWriter(f, self.keys)
                w.writeheader()
                w.writerows(old_rows)
        with self.path.open("a", newline="") as f:
            csv.DictWriter(f, self.keys).writerow({k: _fmt(v) for k, v in row.items()})


def _fmt(v: float) -> str:
    return "" if v is None else repr(float(v)) if isinstance(v, float) else str(v)


class RunLogger:
    """Writes into `run_dir` when given; always keeps the latest metrics and their history."""

    def __init__(self, run_dir: str | Path | None = None, tensorboard: bool = True):
        self.latest: dict[str, float] = {}
        self.history: list[dict[str, float]] = []
        self.csv = self.tb = None
        if run_dir is not None:
            run_dir = Path(run_dir)
            run_dir.mkdir(parents=True, exist_ok=True)
            self.csv = CSVWriter(run_dir / "metrics.csv")
            self.tb = EventWriter(run_dir / "tb") if tensorboard else None

    def log(self, metrics: Mapping[str, float], step: int) -> None:
        row = {"global_step": step, **metrics}
        self.latest.update(metrics)
        self.history.append(row)
        if self.csv is not None:
            self.csv.write(row)
        if self.tb is not None:
            self.tb.add_scalars({k: v for k, v in metrics.items()
                                 if v is not None and not (isinstance(v, float) and math.isnan(v))},
                                step)

    def flush(self) -> None:
        if self.tb is not None:
            self.tb.flush()

    def close(self) -> None:
        if self.tb is not None:
            self.tb.close()
