"""PPO's rollouts from Ray actors: `runners.num` runners, each stepping its share of
`ppo.num_envs` envs with a copy of the policy, on one machine or a Ray cluster.

A runner is a whole PPO agent in the actor's process, built from the run's config with its share
of the envs, so it acts exactly as a local run does (colored noise, masks, a recurrent state
carried between rollouts, observation normalization) through the same code. Each iteration the
learner sends it the current weights and normalizer statistics; the runner collects one rollout
of `ppo.num_steps` steps into its own buffer and hands back the buffer's contents, the last
observations' values, the episodes it finished and what its observation statistics took in.
The learner puts the shares side by side, in runner order, as if one vector env had stepped them
all: env k of the run is env k in a local run too, seeded alike.

Rewards come back unscaled: reward scaling keeps a running discounted return per env, which the
learner keeps for all envs, in order, as a local run does. Observation normalization differs
from a local run in one way: within a rollout a runner's statistics grow only from what it saw,
and the learner merges every runner's at the end (a local run's grow from all envs every step).

A runner whose process dies is restarted by Ray; its envs start new episodes, the learner asks
it again for the rollout, and `runners/restarts` counts it.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np
import torch

from ..errors import ThermorlError

EXTRA_HINT = 'pip install -e ".[ray]"'


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ThermorlError(f"runners.backend ray needs Ray, which is not installed: "
                            f"{EXTRA_HINT}") from None
    return ray


def shares(num_envs: int, num: int) -> list[int]:
    """How many of `num_envs` envs each of `num` runners steps (`num <= num_envs`, as
    config_io.check makes sure): as even as possible, the first runners taking one more where
    it does not divide."""
    return [num_envs // num + (i < num_envs % num) for i in range(num)]


class RolloutRunner:
    """The actor's side: one PPO agent over `num_envs` envs whose first is the run's env
    `first` (Ray makes this class an actor; it also works in-process, for tests)."""

    def __init__(self, env_source: Any, config: Any, first: int, num_envs: int):
        import thermorl  # noqa: F401  registers thermorl's envs in this process
        from ..algos.ppo import PPO

        p = config.ppo
        cfg = dataclasses.replace(
            config, seed=config.seed + first, torch_threads=1, device="cpu",
            ppo=dataclasses.replace(p, num_envs=num_envs, norm_reward=False),
            runners=dataclasses.replace(config.runners, backend="local"),
            log=dataclasses.replace(config.log, progress="off", tensorboard=False))
        self.first = first
        self.algo = PPO(env_source, cfg)
        c = self.algo.collector
        c.finished = []
        # errors (a NaN observation) name the run's global step, as a local run's do: the
        # rollout's first step plus every env's steps since, all runners stepping alike
        self._start, self._start_steps = 0, 0
        scale = p.num_envs / num_envs
        c.clock = lambda: self._start + round((c.steps - self._start_steps) * scale)

    def pid(self) -> int:
        import os

        return os.getpid()

    def collect(self, weights: dict[str, torch.Tensor], obs_stats: dict[str, torch.Tensor] | None,
                step: int) -> dict[str, Any]:
        """One rollout with `weights` (and the learner's observation statistics) from the
        run's global step `step` (which seeds the envs' first reset, as in a local run)."""
        algo, c = self.algo, self.algo.collector
        t0 = time.perf_counter()
        algo.policy.load_state_dict(weights)
        if obs_stats is not None:
            algo.obs_norm.rms.load_state_dict(obs_stats)
        self._start, self._start_steps = step, c.steps
        if c.obs is None:
            c.reset(seed=algo.config.seed + step)
        env_time = c.env_time
        c.finished.clear()
        algo._collect()
        buf = algo.buffer
        buf.flush()
        obs = torch.as_tensor(c.obs)
        with torch.no_grad():
            last_value = (algo.policy.value_step(obs, algo._start_states(c.starts))
                          if algo.recurrent else algo.learner.value(obs))
        out = {
            "obs": buf.obs, "actions": buf.actions, "log_probs": buf.log_probs,
            "values": buf.values, "rewards": buf.rewards, "terminated": buf.terminated,
            "episode_end": buf.episode_end, "valid": buf.valid, "masks": buf.action_masks,
            "starts": buf.starts, "states": buf.states, "last_value": last_value,
            "finished": list(c.finished), "env_s": c.env_time - env_time,
            "collect_s": time.perf_counter() - t0,
            "obs_seen": (algo.obs_norm.rms.since(obs_stats)
                         if obs_stats is not None else None),
        }
        return {k: _cpu_copy(v) for k, v in out.items()}


def _cpu_copy(x: Any) -> Any:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().clone()
    if isinstance(x, dict):
        return {k: _cpu_copy(v) for k, v in x.items()}
    return x


class RayRunners:
    """The learner's side: starts Ray (or joins `address`), the runner actors, and gathers a
    rollout from each per iteration."""

    def __init__(self, env_source: Any, config: Any):
        ray = self.ray = import_ray()
        r = config.runners
        self.shares = shares(config.ppo.num_envs, r.num)
        self.started = False
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                      "configure_logging": False}
            if r.address:
                kwargs["address"] = r.address
            else:  # a Ray of its own, not one that a `ray start` on this machine recorded
                kwargs.update(address="local", num_cpus=max(r.num, 1))
            ray.init(**kwargs)
            self.started = True
        # restarted by Ray when its process dies; a call to a restarting actor waits for it
        actor = ray.remote(num_cpus=1, max_restarts=-1, max_task_retries=0)(RolloutRunner)
        firsts = np.cumsum([0] + self.shares[:-1]).tolist()
        self.actors = [actor.remote(env_source, config, first, n)
                       for first, n in zip(firsts, self.shares)]
        self.restarts = 0
        self._pids = ray.get([a.pid.remote() for a in self.actors])  # built, or raised here

    def pids(self) -> list[int]:
        return self.ray.get([a.pid.remote() for a in self.actors])

    def collect(self, weights: dict[str, torch.Tensor], obs_stats: dict[str, torch.Tensor] | None,
                step: int) -> list[dict[str, Any]]:
        ray = self.ray
        w = ray.put(weights)
        pending = {i: a.collect.remote(w, obs_stats, step) for i, a in enumerate(self.actors)}
        out: dict[int, dict[str, Any]] = {}
        while pending:
            i, ref = next(iter(pending.items()))
            try:
                out[i] = ray.get(ref)
                del pending[i]
            except ray.exceptions.RayActorError:
                self._await_restart(i)
                pending[i] = self.actors[i].collect.remote(w, obs_stats, step)
        return [out[i] for i in range(len(self.actors))]

    def _await_restart(self, i: int, timeout: float = 300.0) -> None:
        """Wait for runner `i`, whose call failed because its process died, to be back (Ray
        restarts it), and count the restart once: a call sent before Ray noticed the death
        fails as well, without a second restart."""
        ray, deadline = self.ray, time.monotonic() + timeout
        while True:
            try:
                pid = ray.get(self.actors[i].pid.remote())
                break
            except ray.exceptions.RayActorError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        if pid != self._pids[i]:
            self.restarts += 1
            self._pids[i] = pid

    def close(self) -> None:
        for a in self.actors:
            self.ray.kill(a)
        self.actors = []
        if self.started:
            self.ray.shutdown()
            self.started = False
