"""Shared helpers for the integration tests: tiny training settings, an in-process CLI runner,
a subprocess runner, and one small CartPole run per worker that read-only tests share."""

from __future__ import annotations

import csv
import json
import os
import sys
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
                                 subprocess_env=subprocess_env)


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
