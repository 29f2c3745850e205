"""Running Ray from tests: in a process of its own, in a network namespace with only loopback.

On the machines this project is tested on only loopback may carry traffic, and Ray, left alone,
connects its processes through the machine's interface address and probes a public address to
find it. So a test that starts Ray runs its Ray part as a subprocess under `unshare -n` with
`lo` up, where Ray's node address is 127.0.0.1. Without root (or without `unshare`), as on a
user's workstation with a network, the subprocess runs as it is.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def need_ray() -> None:
    """Skip the calling test, saying why, where Ray (the `ray` extra) is not installed."""
    try:
        import ray  # noqa: F401
    except ImportError:
        pytest.skip('Ray is not installed (pip install -e ".[ray]")')


def loopback(argv: list[str]) -> list[str]:
    """`argv` run in a loopback-only network namespace, where this process may make one."""
    if os.geteuid() == 0 and shutil.which("unshare") and shutil.which("ip"):
        return ["unshare", "-n", "bash", "-c", "ip link set lo up && exec " + shlex.join(argv)]
    return argv


def ray_env(**extra: str) -> dict[str, str]:
    """The environment for a Ray subprocess: thermorl's sources and the tests' helper envs on
    the path, Ray's usage reporting off (nothing leaves the machine)."""
    path = [str(ROOT / "src"), str(ROOT / "tests" / "integration")]
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0",
           "PYTHONPATH": os.pathsep.join(path + [os.environ.get("PYTHONPATH", "")]), **extra}
    return env


def run_python(code: str, timeout: float, cwd: Path | None = None,
               **env: str) -> subprocess.CompletedProcess:
    """Run `code` with this Python in a loopback-only namespace; stdout and stderr captured."""
    return subprocess.run(loopback([sys.executable, "-c", code]), capture_output=True,
                          text=True, timeout=timeout, cwd=cwd, env=ray_env(**env))


def run_cli(args: list[str], timeout: float, cwd: Path | None = None,
            **env: str) -> subprocess.CompletedProcess:
    """`thermorl ARGS` in a loopback-only namespace."""
    return subprocess.run(loopback([sys.executable, "-m", "thermorl", *args]),
                          capture_output=True, text=True, timeout=timeout, cwd=cwd,
                          env=ray_env(**env))
