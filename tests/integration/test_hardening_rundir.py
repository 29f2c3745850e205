"""The run directory under faults: two processes on one directory, SIGTERM, kill -9 and resume,
a bad --total-timesteps on resume, unwritable files, config errors, a second Ctrl-C."""

from __future__ import annotations

import csv
import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from thermorl import checkpoint, rundir

START_TIMEOUT = 60  # seconds for a child to import torch and log its first updates
STOP_TIMEOUT = 30  # seconds for it to finish the current update, save and exit

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and flock")


def _rows(run_dir: Path) -> list[dict[str, str]]:
    """metrics.csv rows, or [] while the file is absent or being rewritten."""
    try:
        with (run_dir / "metrics.csv").open(newline="") as f:
            return [r for r in csv.DictReader(f) if r.get("global_step")]
    except (OSError, csv.Error):
        return []


def _steps(run_dir: Path) -> list[int]:
    return [int(r["global_step"]) for r in _rows(run_dir)]


def _one_line_error(r, *needles: str) -> str:
    """Exit 2 and one error line, the last on stderr (a run's start lines may come before)."""
    assert r.rc == 2, r
    assert "Traceback" not in r.err + r.out, r
    lines = r.err.strip().splitlines()
    assert [x for x in lines if "error" in x] == lines[-1:], r.err
    assert lines[-1].startswith("thermorl: error: "), r.err
    for n in needles:
        assert n in lines[-1], (n, lines[-1])
    return lines[-1]


class Child:
    """`thermorl train ARGS` in a subprocess, killed if a test leaves it running."""

    def __init__(self, it, *args: str):
        cmd = [sys.executable, "-m", "thermorl.cli", "train", *map(str, args)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=it.subprocess_env())

    def wait_for(self, cond, what: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while not cond():
            assert self.proc.poll() is None, self.proc.communicate()
            assert time.monotonic() < deadline, f"the child did not get to: {what}"
            time.sleep(0.05)

    def send(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def finish(self) -> tuple[int, str, str]:
        out, err = self.proc.communicate(timeout=STOP_TIMEOUT)
        return self.proc.returncode, out, err

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


@pytest.fixture
def child(it):
    made: list[Child] = []

    def start(*args: str) -> Child:
        made.append(Child(it, *args))
        return made[-1]

    yield start
    for c in made:
        c.kill()


LONG = ["--total-timesteps", "200000", "--eval.freq", "0"]


# -- 1. one training process per run directory -----------------------------------------------
@posix_only
def test_a_second_process_cannot_train_or_resume_in_a_busy_run_dir(run_cli, it, child,
                                                                   tmp_path):
    run_dir = tmp_path / "run"
    c = child("--run-dir", run_dir, *LONG, *it.FAST, "--log.checkpoint_freq", "1")
    c.wait_for(lambda: (run_dir / "checkpoints" / "latest.pt").is_file(), "a first checkpoint")

    for argv in (["train", "--run-dir", run_dir, "--total-timesteps", "256", *it.FAST],
                 ["train", "--resume", run_dir, "--total-timesteps", "300000"]):
        _one_line_error(run_cli(*argv), str(run_dir),
                        "another thermorl process is training there", f"pid {c.proc.pid}")
    steps = _steps(run_dir)
    assert steps == sorted(set(steps))  # only the child's rows, in order

    # kill -9 leaves no stale lock: the kernel drops it with the process
    c.kill()
    rundir.check_free(run_dir)
    last = checkpoint.load(run_dir / "checkpoints" / "latest.pt")["global_step"]
    r = run_cli("train", "--resume", run_dir, "--total-timesteps", last + 128)
    assert r.rc == 0, r


# -- 2. SIGTERM does what Ctrl-C does ---------------------------------------------------------
@posix_only
def test_sigterm_saves_prints_the_resume_command_and_exits_143(it, child, tmp_path):
    run_dir = tmp_path / "run"
    # latest.pt can only come from the stop's own save
    c = child("--run-dir", run_dir, *LONG, *it.FAST, "--log.checkpoint_freq", "100000")
    c.wait_for(lambda: len(_rows(run_dir)) >= 2, "two updates")
    c.send(signal.SIGTERM)
    rc, out, err = c.finish()

    assert rc == 143, (out, err)
    assert "Traceback" not in err
    assert "interrupted by SIGTERM at step" in err
    assert f"resume with: thermorl train --resume {run_dir}" in err
    ck = torch.load(run_dir / "checkpoints" / "latest.pt", weights_only=True)
    assert ck["global_step"] == _steps(run_dir)[-1]


def test_learn_puts_the_previous_signal_handlers_back(it):
    import thermorl

    def mine(signum, frame):  # pragma: no cover - never called
        pass

    old = signal.signal(signal.SIGTERM, mine)
    try:
        cfg = thermorl.make_config("CartPole-v1", total_timesteps=128, **it.FAST_DOTTED,
                                   **{"log.tensorboard": False})
        with thermorl.PPO("CartPole-v1", cfg) as algo:
            algo.learn()
        assert signal.getsignal(signal.SIGTERM) is mine
    finally:
        signal.signal(signal.SIGTERM, old)


# -- 3. kill -9, then resume: metrics.csv stays monotonic -------------------------------------
def test_resume_drops_the_rows_logged_after_its_checkpoint(run_cli, it, tmp_path):
    run_dir = tmp_path / "run"
    assert run_cli("train", "--total-timesteps", "256", "--run-dir", run_dir, *it.FAST).rc == 0
    at_256 = tmp_path / "at_256.pt"
    shutil.copy(run_dir / "checkpoints" / "latest.pt", at_256)
    assert run_cli("train", "--resume", run_dir, "--total-timesteps", "512").rc == 0
    # what kill -9 at step 512 leaves when the last checkpoint was at 256: rows past it
    shutil.copy(at_256, run_dir / "checkpoints" / "latest.pt")
    assert _steps(run_dir) == [128, 256, 384, 512]

    r = run_cli("train", "--resume", run_dir, "--total-timesteps", "640")
    assert r.rc == 0, r
    assert _steps(run_dir) == [128, 256, 384, 512, 640]  # 384 and 512 logged once, by this run
    assert not list(run_dir.glob(".metrics.csv*"))  # the rewrite left no temp file


# -- 4. --total-timesteps at or below the current step ----------------------------------------
@pytest.mark.parametrize("total", ["256", "512", None])
def test_resume_to_a_total_not_above_the_current_step_is_refused(run_cli, it, cartpole_run,
                                                                 tmp_path, total):
    run_dir = tmp_path / "run"
    shutil.copytree(cartpole_run, run_dir)  # at step 512 of 512
    before = {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}
    argv = ["train", "--resume", run_dir] + (["--total-timesteps", total] if total else [])
    line = _one_line_error(run_cli(*argv), "512", "above 512")
    if total:
        assert f"--total-timesteps {int(total):,}" in line
    after = {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}
    assert after == before  # nothing written: config.yaml and summary.json as they were


# -- 5. unwritable run files; resuming from best.pt or a file ---------------------------------
def test_a_full_disk_at_a_checkpoint_is_one_line_and_keeps_the_last_good_one(
        run_cli, it, tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    real_save, calls = torch.save, []

    def save(obj, f, *a, **k):  # the disk fills up after the first checkpoint
        calls.append(1)
        if len(calls) > 1:
            f.write(b"partial")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_save(obj, f, *a, **k)

    monkeypatch.setattr(torch, "save", save)
    r = run_cli("train", "--total-timesteps", "512", "--run-dir", run_dir, *it.FAST,
                "--eval.freq", "0", "--log.checkpoint_freq", "1")
    latest = run_dir / "checkpoints" / "latest.pt"
    _one_line_error(r, f"cannot write {str(latest)!r}", "No space left on device")
    assert checkpoint.load(latest)["global_step"] == 128  # the last good one, whole
    assert [p.name for p in latest.parent.iterdir()] == ["latest.pt"]  # no temp file left


def test_an_unwritable_config_file_is_one_line(run_cli, it, tmp_path):
    if not Path("/dev/full").exists():
        pytest.skip("needs /dev/full")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "config.yaml").symlink_to("/dev/full")  # every write to it: ENOSPC
    r = run_cli("train", "--total-timesteps", "128", "--run-dir", run_dir, *it.FAST)
    _one_line_error(r, f"cannot write {str(run_dir / 'config.yaml')!r}",
                    "No space left on device")


def test_an_unwritable_plot_is_one_line(run_cli, cartpole_run):
    if not Path("/dev/full").exists():
        pytest.skip("needs /dev/full")
    _one_line_error(run_cli("plot", cartpole_run, "-o", "/dev/full"),
                    "cannot write '/dev/full'", "No space left on device")


def test_resume_from_best_or_a_checkpoint_file(run_cli, it, tmp_path):
    run_dir = tmp_path / "run"
    assert run_cli("train", "--total-timesteps", "384", "--run-dir", run_dir, *it.FAST,
                   "--eval.freq", "128").rc == 0
    best = run_dir / "checkpoints" / "best.pt"
    step = checkpoint.load(best)["global_step"]

    r = run_cli("train", "--resume", run_dir, "--checkpoint", "best", "--total-timesteps", "512")
    assert r.rc == 0, r
    assert f"from {best} at step {step:,}" in r.err
    steps = _steps(run_dir)
    assert steps == sorted(steps) and steps[-1] == 512  # rows after best.pt's step were redone
    assert steps == list(range(128, 513, 128))

    # a file anywhere
    copy = tmp_path / "kept.pt"
    shutil.copy(run_dir / "checkpoints" / "latest.pt", copy)
    r = run_cli("train", "--resume", run_dir, "--checkpoint", copy, "--total-timesteps", "640")
    assert r.rc == 0, r
    assert _steps(run_dir)[-1] == 640


@pytest.mark.parametrize("argv, needles", [
    (["--resume", "RUN", "--checkpoint", "bets"], ["'bets'", "latest, best, or a path"]),
    (["--resume", "RUN", "--checkpoint", "gone.pt"], ["'gone.pt'", "no such file"]),
    (["--run-dir", "RUN", "--checkpoint", "best"], ["only accepted with --resume"]),
])
def test_checkpoint_flag_errors(run_cli, cartpole_run, argv, needles):
    argv = [str(cartpole_run) if a == "RUN" else a for a in argv]
    _one_line_error(run_cli("train", *argv), *needles)


# -- 6. config errors leave nothing; a second Ctrl-C during shutdown is quiet -----------------
def test_a_config_error_found_against_the_env_leaves_no_files(run_cli, it, tmp_path):
    run_dir = tmp_path / "run"
    r = run_cli("train", "CartPole-v1", "--run-dir", run_dir, "--total-timesteps", "128",
                *it.FAST, "--entropy.heads.fire.mode", "fixed")  # CartPole has no head 'fire'
    _one_line_error(r, "entropy.heads.fire", "no head 'fire'")
    assert not run_dir.exists()


@posix_only
def test_a_second_ctrl_c_during_shutdown_is_quiet(it, child, tmp_path):
    run_dir = tmp_path / "run"
    # each env's close() takes 2 s: the second Ctrl-C lands while the envs close
    c = child("envs_for_tests:ThermorlTest/SlowClose-v0", "--run-dir", run_dir, *LONG, *it.FAST,
              "--log.checkpoint_freq", "100000")
    c.wait_for(lambda: len(_rows(run_dir)) >= 2, "two updates")
    c.send(signal.SIGINT)
    c.wait_for(lambda: (run_dir / "checkpoints" / "latest.pt").is_file(), "the Ctrl-C save")
    time.sleep(0.5)
    c.send(signal.SIGINT)
    rc, out, err = c.finish()

    assert rc == 130, (out, err)
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert f"resume with: thermorl train --resume {run_dir}" in err
