"""PPO's rollouts from worker processes on this machine (`runners.backend async`): the design of
the Ray runners (collect/ray_runners.py), `runners.num` processes each stepping its share of
`ppo.num_envs` envs with a copy of the policy, without Ray.

Why the policy acts in the workers: a backend that sends actions to other processes every step
(gymnasium's AsyncVectorEnv) pays a round trip between processes per step; on two cores and an
env of 1 ms a step that held it near 1.45x a local run (benchmarks/README.md). A runner that
acts itself crosses to the learner once per rollout.

Each worker holds a `RolloutRunner`, the same class a Ray actor holds, so a run gives the same
numbers under `async` and `ray` with the same seed and runner count. Messages are pickled
explicitly (not multiprocessing's pickler, which would pass tensors through shared memory whose
owner may die). A worker that dies is started again: its envs start new episodes, the learner
asks it again for the rollout, and `runners/restarts` counts it.
"""

from __future__ import annotations

import atexit
import functools
import multiprocessing as mp
import pickle
import signal
from multiprocessing.connection import Connection
from typing import Any

import cloudpickle
import numpy as np
import torch

from ..errors import ThermorlError
from .ray_runners import RolloutRunner, shares

START_TIMEOUT_S = 300.0  # a worker imports torch and builds its envs before it answers


def _serve(conn: Connection, payload: bytes) -> None:
    """A worker's life: build the runner, then answer collect requests until told to stop
    (None) or the learner is gone. The training process handles Ctrl-C and SIGTERM for the
    whole job (it saves a checkpoint), so the workers ignore them."""
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, signal.SIG_IGN)
    # a forked worker inherits the learner's inference mode (it starts the workers inside its
    # rollout); the runner builds a whole agent, whose parameters must be ordinary tensors
    with torch.inference_mode(False):
        _run_runner(conn, payload)


def _run_runner(conn: Connection, payload: bytes) -> None:
    try:
        runner = RolloutRunner(*cloudpickle.loads(payload))
    except Exception as e:  # noqa: BLE001  the learner raises it
        _send(conn, "error", e)
        return
    _send(conn, "ready", None)
    while True:
        try:
            msg = pickle.loads(conn.recv_bytes())
        except (EOFError, OSError):
            return
        if msg is None:
            return
        seq, args = msg
        try:
            out = runner.collect(*args)
        except Exception as e:  # noqa: BLE001
            _send(conn, "error", e, seq)
            continue
        _send(conn, "ok", out, seq)


def _send(conn: Connection, kind: str, value: Any, seq: int = -1) -> None:
    """`value` (of `kind` ok, error or ready) as the answer to request `seq` (-1: the start)."""
    try:
        data = pickle.dumps((kind, seq, value))
    except Exception:  # noqa: BLE001  an exception that does not pickle: its text does
        data = pickle.dumps((kind, seq, ThermorlError(f"{type(value).__name__}: {value}")))
    try:
        conn.send_bytes(data)
    except (BrokenPipeError, OSError):
        pass  # the learner is gone


def _kill(procs: list[Any]) -> None:
    """At exit, runner processes left running (a run that raised before it closed them): the
    workers ignore SIGTERM, which is how multiprocessing ends its daemons, so they are killed
    first."""
    for p in procs:
        if p is not None and p.is_alive():
            p.kill()
            p.join(timeout=5)


class _Died(Exception):
    """A worker's process ended without answering."""


class ProcessRunners:
    """The learner's side: `runners.num` worker processes, a rollout from each per iteration
    (the interface of RayRunners)."""

    def __init__(self, env_source: Any, config: Any):
        self.shares = shares(config.ppo.num_envs, config.runners.num)
        firsts = np.cumsum([0] + self.shares[:-1]).tolist()
        self._payloads = [cloudpickle.dumps((env_source, config, first, n))
                          for first, n in zip(firsts, self.shares)]
        # fork where there is one: as with gymnasium's AsyncVectorEnv, a script without a
        # `__main__` guard, or a notebook, works (spawn would run the script again in each
        # worker); the workers use no CUDA and set one torch thread
        self._ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
        self.restarts = 0
        # requests are numbered, so that an answer to one the learner stopped waiting for
        # (Ctrl-C during a rollout, then learn again) is not taken for the next one's
        self._seq = 0
        self._procs: list[Any] = [None] * len(self._payloads)
        self._conns: list[Connection | None] = [None] * len(self._payloads)
        # registered after multiprocessing's own exit hook, so it runs before it
        self._at_exit = functools.partial(_kill, self._procs)
        atexit.register(self._at_exit)
        try:
            for i in range(len(self._payloads)):
                self._start(i)
            for i in range(len(self._payloads)):
                self._await_ready(i)
        except BaseException:
            self.close()
            raise

    def _start(self, i: int) -> None:
        mine, theirs = self._ctx.Pipe()
        p = self._ctx.Process(target=_serve, args=(theirs, self._payloads[i]), daemon=True,
                              name=f"thermorl-runner-{i}")
        p.start()
        theirs.close()  # so that the worker's death reads as the end of the pipe here
        self._procs[i], self._conns[i] = p, mine

    def _await_ready(self, i: int) -> None:
        """Worker `i` built its runner; what went wrong there is raised here."""
        conn = self._conns[i]
        assert conn is not None
        if not conn.poll(START_TIMEOUT_S):
            raise ThermorlError(f"runner {i} did not start within {START_TIMEOUT_S:.0f} s")
        try:
            self._answer(i, -1)
        except _Died:
            self._procs[i].join(timeout=5)
            raise ThermorlError(f"runner {i}'s process ended while it started (exit code "
                                f"{self._procs[i].exitcode})") from None

    def _answer(self, i: int, seq: int) -> Any:
        """Runner `i`'s answer to request `seq`, older answers dropped."""
        conn = self._conns[i]
        assert conn is not None
        while True:
            try:
                kind, got, value = pickle.loads(conn.recv_bytes())
            except (EOFError, OSError):
                raise _Died() from None
            if got == seq:
                break
        if kind == "error":
            raise value
        return value

    def pids(self) -> list[int]:
        return [p.pid for p in self._procs]

    def collect(self, weights: dict[str, torch.Tensor], obs_stats: dict[str, torch.Tensor] | None,
                step: int) -> list[dict[str, Any]]:
        self._seq += 1
        request = pickle.dumps((self._seq, (weights, obs_stats, step)))
        for i in range(len(self._conns)):
            self._request(i, request)
        out = []
        for i in range(len(self._conns)):
            while True:
                try:
                    out.append(self._answer(i, self._seq))
                    break
                except _Died:
                    self._restart(i)
                    self._request(i, request)
        return out

    def _request(self, i: int, request: bytes) -> None:
        conn = self._conns[i]
        assert conn is not None
        try:
            conn.send_bytes(request)
        except (BrokenPipeError, OSError):
            pass  # dead: the answer it cannot give restarts it

    def _restart(self, i: int) -> None:
        """Start worker `i` again after its process died; its envs start new episodes."""
        old, conn = self._procs[i], self._conns[i]
        if conn is not None:
            conn.close()
        old.join(timeout=5)
        self._start(i)
        self._await_ready(i)
        self.restarts += 1

    def close(self) -> None:
        for conn in self._conns:
            if conn is not None:
                try:
                    conn.send_bytes(pickle.dumps(None))
                except (BrokenPipeError, OSError):
                    pass
        for p in self._procs:
            if p is not None:
                p.join(timeout=10)
                if p.is_alive():
                    p.kill()
                    p.join()
        for conn in self._conns:
            if conn is not None:
                conn.close()
        self._procs[:] = [None] * len(self._procs)
        self._conns[:] = [None] * len(self._conns)
        atexit.unregister(self._at_exit)
