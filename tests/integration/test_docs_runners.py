"""docs/runners.md: its commands run as written (Ray's in a loopback-only namespace)."""

import json
import shlex
import subprocess
import sys

import pytest
from doc_blocks import doc_blocks
from raynet import loopback, need_ray, ray_env


def commands(block: str) -> list[list[str]]:
    """The block's lines as argv lists (continuations joined), `pip install` lines left out:
    the tests run where the extras are installed."""
    lines = block.replace("\\\n", " ").strip().splitlines()
    return [shlex.split(line) for line in lines if line and not line.startswith("pip ")]


def run_thermorl(argv: list[str], cwd, ray: bool = False) -> None:
    assert argv[0] == "thermorl"
    cmd = [sys.executable, "-m", "thermorl", *argv[1:]]
    r = subprocess.run(loopback(cmd) if ray else cmd, cwd=cwd, capture_output=True, text=True,
                       timeout=900, env=ray_env())
    assert r.returncode == 0, r.stderr[-3000:]


@pytest.mark.slow
def test_async_example_runs_as_written(tmp_path):
    (cmd,) = commands(doc_blocks("runners.md", "bash")[0])
    assert "--runners.backend" in cmd and "async" in cmd
    run_thermorl(cmd, tmp_path)
    summary = json.loads((tmp_path / "runs" / "slow-async" / "summary.json").read_text())
    assert summary["global_step"] >= 20000


@pytest.mark.slow
def test_ray_example_runs_as_written(tmp_path):
    need_ray()
    (cmd,) = commands(doc_blocks("runners.md", "bash")[1])
    assert cmd[cmd.index("--runners.backend") + 1] == "ray"
    run_thermorl(cmd, tmp_path, ray=True)
    summary = json.loads((tmp_path / "runs" / "cartpole-ray" / "summary.json").read_text())
    assert summary["final_eval"]["mean_return"] >= 475
