"""RunLogger's TensorBoard files, read back by TensorBoard's own reader; and the progress bar."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pytest

from thermorl.logging import ProgressBar, RunLogger

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader  # noqa: E402

ROWS: list[tuple[int, dict[str, float | None]]] = [
    (128, {"loss/policy": 1.5, "loss/value": 0.25, "entropy/action": 0.693, "diag/epochs": 4}),
    (256, {"loss/policy": 1.25, "loss/value": math.nan, "entropy/action": np.float32(0.5),
           "diag/epochs": 3}),
    (384, {"loss/policy": -3.75, "loss/value": None, "entropy/action": 1e-7, "diag/epochs": 4,
           "eval/mean_return": 1e300}),
]


def _scalars(tb_dir: Path) -> dict[str, list[tuple[int, float]]]:
    acc = EventAccumulator(str(tb_dir))
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def _f32(v: float) -> float:
    return float(np.float32(v))  # TensorBoard stores scalars as float32


def _expected(rows: list[tuple[int, dict[str, float | None]]]) -> dict[str, list[tuple[int, float]]]:
    out: dict[str, list[tuple[int, float]]] = {}
    for step, metrics in rows:
        for tag, v in metrics.items():
            if v is not None and not math.isnan(v):
                with np.errstate(over="ignore"):
                    out.setdefault(tag, []).append((step, _f32(v)))
    return out


def test_scalars_read_back_by_tensorboard(tmp_path: Path) -> None:
    logger = RunLogger(tmp_path, tensorboard=True)
    for step, metrics in ROWS:
        logger.log(metrics, step)
    logger.close()

    files = list((tmp_path / "tb").glob("events.out.tfevents.*"))
    assert len(files) == 1
    got = _scalars(tmp_path / "tb")
    assert got == _expected(ROWS)
    assert got["loss/value"] == [(128, 0.25)]  # NaN and None were skipped
    assert got["eval/mean_return"] == [(384, math.inf)]  # beyond float32: inf, not a crash
    # memory and CSV keep everything, NaN included
    assert logger.latest["loss/policy"] == -3.75 and len(logger.history) == 3
    assert math.isnan(logger.history[1]["loss/value"])
    assert (tmp_path / "metrics.csv").read_text().count("\n") == 4


def test_flush_puts_every_row_on_disk(tmp_path: Path) -> None:
    logger = RunLogger(tmp_path)
    for step in range(1, 51):
        logger.log({"x": float(step)}, step)
    logger.flush()
    (path,) = (tmp_path / "tb").glob("events.out.tfevents.*")
    steps = [e.step for e in EventFileLoader(str(path)).Load() if e.HasField("summary")]
    assert steps == list(range(1, 51))
    logger.close()


def test_resumed_logger_appends_and_supersedes(tmp_path: Path) -> None:
    first = RunLogger(tmp_path)
    for step in (100, 200, 300, 400):  # interrupted after 400; the checkpoint was at 200
        first.log({"x": float(step)}, step)
    first.close()

    second = RunLogger(tmp_path)  # the resumed run, in the same directory
    for step in (300, 400, 500):
        second.log({"x": step + 0.5}, step)
    second.close()

    assert len(list((tmp_path / "tb").glob("events.out.tfevents.*"))) == 2
    # TensorBoard keeps the first run's points before the resumed one's first step
    assert _scalars(tmp_path / "tb")["x"] == [(100, 100.0), (200, 200.0), (300, 300.5),
                                               (400, 400.5), (500, 500.5)]


def test_close_twice_and_log_after_close(tmp_path: Path) -> None:
    logger = RunLogger(tmp_path)
    logger.log({"x": 1.0}, 1)
    logger.close()
    logger.close()
    logger.flush()  # nothing open: a no-op
    logger.log({"x": 2.0}, 2)  # learn() again after close: a new file
    logger.close()
    assert len(list((tmp_path / "tb").glob("events.out.tfevents.*"))) == 2
    assert _scalars(tmp_path / "tb")["x"] == [(1, 1.0), (2, 2.0)]


def test_no_tensorboard_and_no_run_dir(tmp_path: Path) -> None:
    logger = RunLogger(tmp_path, tensorboard=False)
    logger.log({"x": 1.0}, 1)
    logger.close()
    assert not (tmp_path / "tb").exists() and (tmp_path / "metrics.csv").is_file()
    memory = RunLogger(None)
    memory.log({"x": 1.0}, 1)
    memory.flush()
    memory.close()
    assert memory.history == [{"global_step": 1, "x": 1.0}]


class _TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


METRICS = {"episode/return": 12.34, "entropy/action": 0.5, "entropy/move": 1.25, "loss/x": 9.0}


def test_progress_bar_on_shows_steps_rate_and_postfix() -> None:
    out = io.StringIO()
    bar = ProgressBar(1000, "CartPole-v1 ppo", "on", stream=out)
    bar.update(600, METRICS)  # a resumed run: the first update is at its own step
    bar.update(800, METRICS)
    bar.close()
    text = out.getvalue()
    assert text.endswith("\n")
    assert "CartPole-v1 ppo" in text and "800/1.00k" in text and "steps/s" in text
    assert "return=12.3" in text and "H[action]=0.500" in text and "H[move]=1.250" in text
    assert "loss/x" not in text
    assert "600/1.00k" in text  # drawn at its first update, from the resumed step


@pytest.mark.parametrize("mode, stream", [("off", _TTY()), ("auto", io.StringIO())])
def test_progress_bar_silent(mode: str, stream: io.StringIO) -> None:
    bar = ProgressBar(1000, "x", mode, stream=stream)
    bar.update(500, METRICS)
    bar.close()
    assert stream.getvalue() == ""


def test_progress_bar_auto_on_a_terminal() -> None:
    stream = _TTY()
    bar = ProgressBar(1000, "x", "auto", stream=stream)
    bar.update(500, METRICS)
    bar.close()
    assert "500/1.00k" in stream.getvalue()
