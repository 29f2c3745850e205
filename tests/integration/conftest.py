"""Shared helpers for the integration tests: tiny training settings, an in-process CLI runner,
a subprocess runner, and one small CartPole run per worker that read-only tests share."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # pytest's rootdir-conftest insertion already does this; be sure
    sys.path.insert(0, str(HERE))

from thermorl import cli  # noqa: E402

# A few hundred env steps: batch 2 * 64 = 128, two minibatches, two epochs.
FAST = ["--ppo.num_envs", "2", "--ppo.num_steps", "64", "--ppo.num_minibatches", "2",
        "--ppo.update_epochs", "2", "--eval.episodes", "2", "--log.progress", "off"]
FAST_DOTTED = {"ppo.num_envs": 2, "ppo.num_steps": 64, "ppo.num_minibatches": 2,
               "ppo.update_epochs": 2, "eval.episodes": 2, "log.progress": "off"}
TIMING = ("perf/",)  # columns that measure wall time and may differ between identical runs


class CLIResult:
    def __init__(self, rc: int, out: str, err: str):
        self.rc, self.out, self.err = rc, out, err

    def __repr__(self) -> str:
        return f"CLIResult(rc={self.rc}, out={self.out!r}, err={self.err!r})"


@pytest.fixture
def run_cli(capsys):
    """Run `thermorl ARGS` in this process; returns rc, stdout, stderr."""

    def run(*argv: str) -> CLIResult:
        capsys.readouterr()  # drop anything printed earlier
        rc = cli.main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return CLIResult(rc, out, err)

    return run


def subprocess_env() -> dict[str, str]:
    """Environment for a `thermorl` child process: unbuffered, the test env module importable,
    one torch thread."""
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def ctrl_c_after_updates(cmd: list[str], env: dict[str, str], run_dir: Path, updates: int = 2,
                         start_s: float = 90, stop_s: float = 60) -> tuple[int, str, str]:
    """Start `cmd` in a process group of its own, wait until it has logged `updates` metrics
    rows under `run_dir` (within `start_s`), then send SIGINT to the whole group, as a
    terminal's Ctrl-C does; its exit code, stdout and stderr (killed if it outlives `stop_s`)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, start_new_session=True)
    metrics = Path(run_dir) / "metrics.csv"
    try:
        deadline = time.monotonic() + start_s
        while not metrics.is_file() or len(metrics.read_text().splitlines()) < updates + 1:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, f"the run logged no {updates} updates in time"
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=stop_s)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    return proc.returncode, out, err


def read_metrics(run_dir: Path) -> tuple[list[str], list[dict[str, str]]]:
    with (Path(run_dir) / "metrics.csv").open(newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def read_summary(run_dir: Path) -> dict:
    return json.loads((Path(run_dir) / "summary.json").read_text())


@pytest.fixture(scope="session")
def it():
    """The helpers above, for test modules (which cannot import this conftest by name: the
    suite has two conftest.py files)."""
    import types

    return types.SimpleNamespace(FAST=FAST, FAST_DOTTED=FAST_DOTTED, TIMING=TIMING,
                                 read_metrics=read_metrics, read_summary=read_summary,
                                 subprocess_env=subprocess_env,
                                 ctrl_c_after_updates=ctrl_c_after_updates)


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    """Nothing a test runs writes into the repository (e.g. the default runs/ directory)."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def cartpole_run(tmp_path_factory) -> Path:
    """A finished 512-step CartPole run that tests only read (copy it before changing it)."""
    d = tmp_path_factory.mktemp("shared") / "cartpole"
    rc = cli.main(["train", "CartPole-v1", "--total-timesteps", "512", "--run-dir", str(d), *FAST,
                   "--eval.freq", "256"])
    assert rc == 0
    return d
