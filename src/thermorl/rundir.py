"""One training process per run directory: an exclusive lock on `DIR/.thermorl.lock`.

The lock is `fcntl.flock`, taken without waiting: the kernel drops it when the process ends, however
it ends (kill -9 included), so a crashed run never leaves a stale lock behind; the file itself
stays and only records the holder's pid for the message a second process prints.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator

from .errors import ThermorlError, writing

try:
    import fcntl
except ImportError:  # Windows: no flock; runs there are not guarded
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = ".thermorl.lock"

# Lock descriptors this process holds. A forked child (a multiprocessing env worker) would share
# them, and with them the lock, for as long as it lives; it closes its copies at once.
_HELD: set[int] = set()


def _close_held_in_child() -> None:
    for fd in list(_HELD):
        with contextlib.suppress(OSError):
            os.close(fd)
    _HELD.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_close_held_in_child)


class RunDirBusy(ThermorlError):
    """Another process holds the run directory's lock."""


def _busy(run_dir: Path) -> RunDirBusy:
    try:
        pid = (run_dir / LOCK_NAME).read_text().strip()
    except OSError:
        pid = ""
    who = f" (pid {pid})" if pid.isdigit() else ""
    return RunDirBusy(f"run directory {str(run_dir)!r} is in use: another thermorl process is "
                      f"training there{who}; wait for it to end or use another --run-dir")


def check_free(run_dir: str | Path) -> None:
    """Raise RunDirBusy when another process holds `run_dir`'s lock; writes nothing (a free
    directory, or one that does not exist yet, passes)."""
    run_dir = Path(run_dir)
    if fcntl is None or not (run_dir / LOCK_NAME).is_file():
        return  # a holder always creates the file first
    try:
        fd = os.open(run_dir / LOCK_NAME, os.O_RDONLY)
    except OSError:
        return  # unreadable: `locked` will say what is wrong when it tries
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise _busy(run_dir) from None
    finally:
        os.close(fd)  # closing also releases the probe's own lock


@contextlib.contextmanager
def locked(run_dir: str | Path) -> Iterator[None]:
    """Hold `run_dir`'s lock (creating the directory) for the body; RunDirBusy at once when
    another process holds it."""
    run_dir = Path(run_dir)
    path = run_dir / LOCK_NAME
    with writing(path):
        run_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)  # no O_TRUNC: it may hold another pid
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise _busy(run_dir) from None
        _HELD.add(fd)
        with writing(path):
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        _HELD.discard(fd)
        os.close(fd)
