"""Ctrl-C during `thermorl train`: checkpoint saved, resume command printed, exit 130."""

from __future__ import annotations

import csv
import signal
import subprocess
import sys
import time

import pytest
import torch

START_TIMEOUT = 60  # seconds for the child to import torch and log two updates
STOP_TIMEOUT = 30  # seconds for it to finish the current update and save


def _rows(path):
    """metrics.csv rows, or [] while the file is absent or being rewritten."""
    try:
        with path.open(newline="") as f:
            rows = list(csv.DictReader(f))
        return [r for r in rows if r.get("global_step")]
    except (OSError, csv.Error):
        return []


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_saves_and_prints_the_resume_command(run_cli, it, tmp_path):
    run_dir = tmp_path / "run"
    cmd = [sys.executable, "-m", "thermorl.cli", "train", "--total-timesteps", "200000",
           "--run-dir", str(run_dir), *it.FAST, "--eval.freq", "0",
           "--log.checkpoint_freq", "100000"]  # latest.pt can only come from the Ctrl-C save
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=it.subprocess_env())
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while len(_rows(run_dir / "metrics.csv")) < 2:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the run logged no 2 updates in time"
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=STOP_TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()

    assert proc.returncode == 130, (out, err)
    assert "Traceback" not in err
    assert f"resume with: thermorl train --resume {run_dir}" in err
    assert "interrupted at step" in err
    assert "final eval" not in out and not (run_dir / "summary.json").exists()

    rows = _rows(run_dir / "metrics.csv")
    last_step = int(rows[-1]["global_step"])
    assert last_step < 200_000
    ck = torch.load(run_dir / "checkpoints" / "latest.pt", weights_only=True)
    assert ck["global_step"] == last_step
    assert ck["updates"] == len(rows)
    assert f"interrupted at step {last_step:,}" in err

    # and the printed command does resume it (to a few updates further)
    r = run_cli("train", "--resume", run_dir, "--total-timesteps", last_step + 256)
    assert r.rc == 0, r
    assert it.read_summary(run_dir)["global_step"] == last_step + 256
    steps = [int(r["global_step"]) for r in _rows(run_dir / "metrics.csv")]
    assert steps == list(range(128, last_step + 257, 128))
