"""What every algorithm shares: it orchestrates. Collect (through the collector), learn
(through the algorithm's learner), log, evaluate, checkpoint, with callbacks at each step; plus
device and seeding, Ctrl-C and SIGTERM, the run directory's lock, and where a stopped run left
its last good checkpoint.

An algorithm adds `_train_step()` (one collect + update, returning a row of metrics), builds
its policy and learner, and names its extra checkpoint state in `_state()` / `_load_state()`.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import math
import signal
import threading
import time
import weakref
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np
import torch

from .. import checkpoint, rundir
from ..callbacks import Callback, CallbackList
from ..collect import Collector
from ..collect.evaluation import Evaluator
from ..config import Config
from ..config_io import from_dict, to_yaml
from ..entropy.noise import ColoredNoise
from ..envs import EnvSource, env_module, make_vector_env, only_importing
from ..envs.parameterized import used_when
from ..envs.spaces import ACTION_MASK_KEY, ActionLayout, ObsLayout
from ..nets import encoder
from ..errors import LossNotFinite, ThermorlError, TrainingDiverged, writing
from ..logging import ProgressBar, RunLogger
from ..normalize import ObsNormalizer
from .state import restore, snapshot


def _first(action: Any) -> Any:
    """The first env's action out of a batched (possibly nested) action."""
    if isinstance(action, dict):
        return {k: _first(v) for k, v in action.items()}
    if isinstance(action, tuple):
        return tuple(_first(v) for v in action)
    return action[0]


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) or SIGTERM during learn(): a checkpoint was saved at `path` (None without
    a run dir). `signum` is the signal that stopped it."""

    def __init__(self, step: int, path: Path | None, signum: int = signal.SIGINT):
        super().__init__(f"interrupted at step {step}")
        self.step, self.path, self.signum = step, path, int(signum)


class StoppedAtOnce(KeyboardInterrupt):
    """A second Ctrl-C or SIGTERM during learn(): stopped without saving. `signum` as above."""

    def __init__(self, signum: int):
        super().__init__(f"stopped by signal {signum}")
        self.signum = int(signum)


# What a stop request arrives as: Ctrl-C, and SIGTERM from `kill`, Docker and cluster schedulers.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ThermorlError(f"device {name!r} asked for, but torch sees no CUDA device; "
                            f"use --device cpu")
    return dev


def generator_on(device: torch.device, cpu_gen: torch.Generator, seed: int) -> torch.Generator:
    """A generator for random draws made on `device`: torch draws on a device only with a
    generator of that device. On the CPU it is `cpu_gen` itself, so a CPU run draws exactly as
    it always has; elsewhere a new generator on the device, seeded with `seed`."""
    if device.type == "cpu":
        return cpu_gen
    return torch.Generator(device).manual_seed(seed)


def _close_at_exit(ref: "weakref.ref[Algorithm]") -> None:
    algo = ref()
    if algo is not None:
        with contextlib.suppress(Exception):
            algo.close()


class Algorithm:
    """Shared run mechanics. Subclasses set `self.policy`, `self.learner` and `self.entropy`,
    and implement `_train_step()`; `_state()` / `_load_state()` add checkpoint state."""

    algo_name = "base"
    # the runners.backend values under which runners elsewhere (processes, Ray actors) collect
    # with copies of the policy; under others the envs step here or per step in other processes
    runner_backends: tuple[str, ...] = ()

    def __init__(self, env: EnvSource | None, config: Config, run_dir: str | Path | None = None):
        self.config = cfg = config
        self.env_source: EnvSource = env if env is not None else cfg.env_id
        self.device = resolve_device(cfg.device)
        if cfg.torch_threads:
            torch.set_num_threads(cfg.torch_threads)
        backend = cfg.runners.backend
        # where runners step the envs, the learner keeps one, for its spaces and resets; its
        # evaluations step in other processes under async, here under ray
        backend, n_local = (("local", 1) if self.remote_runners
                            else (backend, self.num_envs))
        eval_backend = "async" if cfg.runners.backend == "async" else "local"
        # self-play (thermorl.selfplay): the league, built by the algorithm once its policy
        # exists, drives the opponent of a two-agent env seen as a vector env of the learner's
        # seat
        self.league: Any = None
        self.moved_device = False  # resumed from a checkpoint of another kind of device
        if cfg.selfplay.enabled:
            from ..selfplay.adapter import TwoAgentVectorEnv, parallel_factory
            self.parallel_factory = parallel_factory(self.env_source, cfg.env_kwargs)
            envs = TwoAgentVectorEnv(self.parallel_factory, self.num_envs, cfg.env_id)
        else:
            envs = make_vector_env(self.env_source, n_local, cfg.env_kwargs, backend=backend,
                                   wrappers=cfg.env_wrappers)
        self.obs_space = envs.single_observation_space
        self.action_space = envs.single_action_space
        self.action_layout = ActionLayout(self.action_space, squash=cfg.policy.squash)
        self.heads = self.action_layout.heads
        self.used_when = used_when(cfg.policy.parameterized, self.heads)
        self.obs_layout = ObsLayout(self.obs_space)
        self.obs_dim = self.obs_layout.dim
        self.image = encoder.resolve(cfg.policy.encoder, self.obs_space, self._norm_obs)
        self.obs_norm = (ObsNormalizer((self.obs_dim,), cfg.ppo.clip_obs)
                         if self._norm_obs else None)
        # with runners, observation statistics come from what they saw, not the learner's env
        self.collector = Collector(envs, self.obs_layout, self.action_layout, self.device,
                                   self.obs_norm, update_norm=not self.remote_runners)
        self.evaluator = Evaluator(
            lambda n: (self.league.eval_envs(n) if self.league is not None else
                       make_vector_env(self.env_source, n, cfg.env_kwargs, backend=eval_backend,
                                       max_episode_steps=cfg.eval.max_episode_steps,
                                       wrappers=cfg.env_wrappers)),
            self.obs_layout, self.action_layout, self.device, self.obs_norm,
            clock=lambda: self.global_step)
        # The run's own generators, so its randomness does not depend on other torch users.
        self.sample_gen = torch.Generator(self.device).manual_seed(cfg.seed)
        self.shuffle_gen = torch.Generator().manual_seed(cfg.seed + 1)
        self.updates = 0
        self.elapsed = 0.0
        # where training time goes (seconds): collection (env stepping is the collector's
        # env_time), gradient updates; the rest of `elapsed` is logging and bookkeeping
        self.timing = dict.fromkeys(("collect", "update"), 0.0)
        self.best_eval = -math.inf
        self.final_eval: dict[str, Any] | None = None
        self.stopped_by: str | None = None  # the callback hook that stopped the last learn()
        self._hooks = CallbackList()
        self._stop: int | None = None  # the signal that asked training to stop
        self.run_dir = Path(run_dir) if run_dir is not None else None
        # Nothing is written here: a subclass may still reject the config against the env's
        # spaces, and a rejected run must leave no files. learn() opens the run directory.
        self.logger = RunLogger(self.run_dir, cfg.log.tensorboard)
        self._resumed_at: int | None = None  # set by load(): the checkpoint's step
        # An algorithm left open at exit is closed then: env and runner processes ignore
        # SIGTERM (the training process stops them itself), which is how multiprocessing ends
        # its daemons at exit, so it would wait for them for ever. Registered after
        # multiprocessing's own exit hook, it runs first.
        self._close_at_exit = functools.partial(_close_at_exit, weakref.ref(self))
        atexit.register(self._close_at_exit)

    # -- subclass hooks -------------------------------------------------------------------
    num_envs: int
    _norm_obs: bool = False

    def _train_step(self, total: int) -> dict[str, float]:
        raise NotImplementedError

    def _state(self) -> dict[str, Any]:
        return {}

    def _load_state(self, state: dict[str, Any]) -> None:
        pass

    def _initial_state(self, n: int) -> torch.Tensor | None:
        """A stateful (recurrent) policy's fresh state for `n` envs; None: no state."""
        return None

    def _policy_act(self, obs: torch.Tensor, masks: dict[str, torch.Tensor],
                    state: torch.Tensor | None) -> tuple[Any, torch.Tensor | None]:
        """The policy's distribution for acting on `obs`, and its next state."""
        return self.policy.dist(obs, masks), None

    # -- shared state ---------------------------------------------------------------------
    @property
    def remote_runners(self) -> bool:
        """Whether runners elsewhere collect, with copies of the policy."""
        return self.config.runners.backend in self.runner_backends

    @property
    def envs(self) -> Any:
        return self.collector.envs

    @property
    def global_step(self) -> int:
        """Env steps taken in training, all envs together."""
        return self.collector.steps

    @global_step.setter
    def global_step(self, value: int) -> None:
        self.collector.steps = value

    @property
    def noise(self) -> dict[str, ColoredNoise]:
        return self.collector.noise

    def _make_noise(self, num_envs: int, seed: int) -> dict[str, ColoredNoise]:
        """Colored-noise sources for the Gaussian heads whose beta is above 0."""
        return {h: ColoredNoise(c.s.noise_beta, num_envs, self.heads[h].dim, seed * 1009 + i)
                for i, (h, c) in enumerate(self.entropy.heads.items()) if c.s.noise_beta > 0}

    def set_target(self, head: str, value: float | dict[str, float]) -> None:
        """Hold `head`'s entropy at a new target from now on (a curriculum stage): nats, or
        {"fraction": V} / {"std": V}. Overrides the configured target schedule. (SAC's `min`
        heads hold their entropy above it.)"""
        self.entropy.set_target(head, value)

    def time_breakdown(self) -> dict[str, float]:
        """Seconds of training so far by phase: env stepping, rollout inference (collection
        besides the env), gradient updates, and other (logging, evaluation, bookkeeping)."""
        env = self.collector.env_time
        out = {"env": env, "inference": self.timing["collect"] - env,
               "update": self.timing["update"]}
        out["other"] = max(self.elapsed - sum(out.values()), 0.0)
        return out

    def _last_good(self) -> str:
        f = self.run_dir / "checkpoints" / "latest.pt" if self.run_dir else None
        if f is not None and f.is_file():
            return f"; the last good checkpoint is {f}"
        return "; no checkpoint had been saved yet"

    # -- acting ---------------------------------------------------------------------------
    @torch.inference_mode()
    def predict(self, obs: Any, deterministic: bool = True,
                generator: torch.Generator | None = None, action_mask: Any = None,
                state: Any = None, episode_start: Any = None) -> Any:
        """The env action for one observation, or a batch of them. `action_mask` is what the env
        gave in `info["action_mask"]` (a Dict observation's own `action_mask` is read too).
        Stochastic actions draw from `generator` (default: the run's sampling generator).

        A recurrent policy returns `(action, state)`: pass the state back with the next
        observation, and `episode_start=True` (one flag per observation in a batch) where an
        episode begins, which zeroes its state; `state=None` is a fresh start. The state is a
        tensor, [state_size] for one observation and [batch, state_size] for a batch."""
        if generator is not None and generator.device.type != self.device.type:
            raise ThermorlError(f"predict: the generator is on {generator.device.type!r} but "
                                f"the policy on {str(self.device)!r}; pass "
                                f"torch.Generator({str(self.device)!r})")
        single = self.obs_layout.single(obs)
        if single:
            obs = self.obs_layout.batch(obs)
            if action_mask is not None:
                action_mask = ({k: np.asarray(v)[None] for k, v in action_mask.items()}
                               if isinstance(action_mask, dict) else np.asarray(action_mask)[None])
        info = {} if action_mask is None else {ACTION_MASK_KEY: action_mask}
        c = self.collector
        batch = torch.as_tensor(c.prepare(obs), device=self.device)
        n = len(batch)
        fresh_state = self._initial_state(n)
        stateful = fresh_state is not None
        if stateful:
            state = (fresh_state if state is None
                     else torch.as_tensor(state, device=self.device).reshape(n, -1))
            if episode_start is not None:
                fresh = torch.as_tensor(np.asarray(episode_start, bool).reshape(n, 1),
                                        device=self.device)
                state = torch.where(fresh, torch.zeros_like(state), state)
        dist, state = self._policy_act(batch, c.read_masks(info, obs), state)
        acts = dist.mode() if deterministic else dist.sample(generator or self.sample_gen)
        env_act = self.action_layout.to_env({k: v.cpu().numpy() for k, v in acts.items()})
        if not stateful:
            return _first(env_act) if single else env_act
        return (_first(env_act), state[0]) if single else (env_act, state)

    def evaluate(self, episodes: int | None = None, deterministic: bool | None = None,
                 seed: int | None = None) -> dict[str, Any]:
        """Mean and std of the return over `episodes` fresh episodes (config's eval settings by
        default). Normalizer statistics are frozen while evaluating."""
        ev = self.config.eval
        return self.evaluator.run(
            self._policy_act, self._initial_state, self._make_noise, episodes or ev.episodes,
            ev.deterministic if deterministic is None else deterministic,
            self.config.seed + 10_000 if seed is None else seed)

    # -- training loop --------------------------------------------------------------------
    def learn(self, total_timesteps: int | None = None,
              callbacks: Iterable[Callback] = ()) -> "Algorithm":
        """Train until `total_timesteps` env steps in all (the config's by default); a resumed
        run continues toward the same total. `callbacks` (thermorl.Callback) are called after
        each collection, update, evaluation and checkpoint; one returning False stops training
        cleanly."""
        cfg = self.config
        if cfg.runners.backend == "ray":  # before anything is written: Ray may be missing
            from ..collect.ray_runners import import_ray

            import_ray()
        total = total_timesteps or cfg.total_timesteps
        eval_every = cfg.eval.freq if cfg.eval.freq is not None else max(total // 10, 1)
        next_eval = (self.global_step // eval_every + 1) * eval_every if eval_every else None
        self._hooks = hooks = CallbackList(callbacks)
        self.stopped_by = None
        if self.collector.obs is None:
            self.collector.reset(seed=cfg.seed + self.global_step)
        try:
            with self._run_dir_open():
                self._loop(total, eval_every, next_eval)
                self.stopped_by = hooks.stopped_by
                with self._diverged():
                    self._finish()
        finally:
            self._hooks = CallbackList()
        return self

    @contextlib.contextmanager
    def _run_dir_open(self) -> Iterator[None]:
        """Hold the run directory's lock while training writes into it (a second process there
        fails at once), write config.yaml, and drop the metrics rows a resumed run will log
        again: those an earlier process logged after the checkpoint this one resumes from."""
        if self.run_dir is None:
            yield
            return
        with rundir.locked(self.run_dir):
            path = self.run_dir / "config.yaml"
            with writing(path):
                path.write_text(to_yaml(self.config))
            if self._resumed_at is not None:
                self.logger.drop_after(self._resumed_at)
                self._resumed_at = None
            yield

    def _loop(self, total: int, eval_every: int, next_eval: int | None) -> None:
        cfg, hooks = self.config, self._hooks
        bar = ProgressBar(total, f"{cfg.env_id} {self.algo_name}", cfg.log.progress)
        try:
            with self._catch_stop_signals(), self._diverged():
                while self.global_step < total and hooks.stopped_by is None:
                    t0 = time.perf_counter()
                    metrics = self._train_step(total)
                    if self.league is not None:
                        metrics.update(self.league.after_update(self.global_step, self.policy))
                    self.elapsed += time.perf_counter() - t0
                    metrics["perf/time"] = self.elapsed
                    metrics.update({f"perf/{k}_total_s": v for k, v in self.timing_totals().items()})
                    if next_eval is not None and self.global_step >= next_eval:
                        next_eval += eval_every
                        metrics.update(self._periodic_eval())
                    self.logger.log(metrics, self.global_step)
                    bar.update(self.global_step, metrics)
                    hooks.update_end(self, metrics)
                    if self.run_dir is not None and self.updates % cfg.log.checkpoint_freq == 0:
                        self._checkpoint("latest.pt")
                    if self._stop is not None:
                        path = self._checkpoint("latest.pt") if self.run_dir else None
                        raise TrainingInterrupted(self.global_step, path, self._stop)
        except BaseException:
            bar.close()
            # the error in flight says what went wrong; a flush failing too (same full disk)
            # must not replace it
            with contextlib.suppress(ThermorlError):
                self.logger.flush()
            raise
        bar.close()
        self.logger.flush()

    def timing_totals(self) -> dict[str, float]:
        """Seconds so far in env steps, collection (env steps included) and updates."""
        return {"env": self.collector.env_time, **self.timing}

    def _checkpoint(self, name: str) -> Path:
        path = self.save(self.run_dir / "checkpoints" / name)
        self._hooks.checkpoint(self, path)
        return path

    def _periodic_eval(self) -> dict[str, float]:
        ev = self.evaluate()
        if self.run_dir is not None and ev["mean_return"] >= self.best_eval:
            self.best_eval = ev["mean_return"]
            self._checkpoint("best.pt")
        self.best_eval = max(self.best_eval, ev["mean_return"])
        self._hooks.eval_end(self, ev)
        out = {"eval/mean_return": ev["mean_return"], "eval/std_return": ev["std_return"],
               **{f"eval/{o}_rate": r for o, r in ev.get("outcomes", {}).items()}}
        if self.league is not None:
            out.update(self.league.eval_metrics(ev))
        return out

    def _finish(self) -> None:
        self.final_eval = self.evaluate()
        if self.run_dir is None:
            return
        self._checkpoint("latest.pt")
        if self.final_eval["mean_return"] >= self.best_eval:
            self.best_eval = self.final_eval["mean_return"]
            self._checkpoint("best.pt")
        summary = {"env_id": self.config.env_id, "algo": self.algo_name,
                   "global_step": self.global_step, "updates": self.updates,
                   "wall_time_s": round(self.elapsed, 3),
                   "final_eval": {k: v for k, v in self.final_eval.items() if k != "returns"},
                   "best_eval_mean_return": self.best_eval,
                   "last_metrics": self.logger.latest}
        if self.stopped_by is not None:
            summary["stopped_by"] = self.stopped_by
        if self.league is not None:
            summary["selfplay"] = {"opponent": self.league.pool.current,
                                   "elo": self.league.table()}
        path = self.run_dir / "summary.json"
        with writing(path):
            path.write_text(json.dumps(summary, indent=2) + "\n")
        self.logger.flush()

    @contextlib.contextmanager
    def _diverged(self) -> Iterator[None]:
        """A NaN or Inf stops training with where it happened and the last good checkpoint."""
        try:
            yield
        except LossNotFinite as e:
            raise TrainingDiverged(
                f"{e} at global step {self.global_step} (update {self.updates + 1}); training "
                f"stopped{self._last_good()}") from None
        except TrainingDiverged as e:
            raise TrainingDiverged(f"{e}{self._last_good()}") from None

    @contextlib.contextmanager
    def _catch_stop_signals(self) -> Iterator[None]:
        """First Ctrl-C or SIGTERM: finish the current update, save, stop. A second one stops at
        once. Signal handlers can only be set in the main thread; elsewhere the defaults stay.
        The previous handlers come back afterwards."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum: int, frame: Any) -> None:
            if self._stop is not None:
                raise StoppedAtOnce(signum)
            self._stop = signum

        old = {s: signal.signal(s, handler) for s in STOP_SIGNALS}
        try:
            yield
        finally:
            for s, h in old.items():  # None: a handler not set from Python; take the default
                signal.signal(s, signal.SIG_DFL if h is None else h)
            self._stop = None

    def close(self) -> None:
        """Close the envs and the event file. Save first: a closed algorithm cannot train
        any more (its training envs are gone); `evaluate` and `predict` still work."""
        atexit.unregister(self._close_at_exit)
        self.collector.close()
        self.evaluator.close()
        if self.league is not None:
            self.league.close()
        self.logger.close()

    def __enter__(self) -> "Algorithm":
        return self

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        if exc_type is None:
            self.close()
            return
        # an error is already on its way out; one from closing (the same full disk) must not
        # replace it
        with contextlib.suppress(ThermorlError):
            self.close()

    # -- checkpoints ----------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write a checkpoint (atomically) with everything needed to resume exactly."""
        return checkpoint.save(snapshot(self), path)

    @classmethod
    def load(cls, path: str | Path, env: EnvSource | None = None,
             run_dir: str | Path | None = None, device: str | None = None,
             trust_env_module: bool = False, **config_changes: Any) -> "Algorithm":
        """Rebuild from a checkpoint file (or a run directory's latest one), in the run's env
        or in `env` (an env id or a factory).

        A checkpoint's env id may be `module:EnvId`, and importing that module runs its code:
        loading imports no module the caller did not ask for, so a run folder from elsewhere
        cannot run code. Pass `env` (its module may be imported), or `trust_env_module=True` to
        let the checkpoint's env ids import theirs; a module already imported is no import."""
        import yaml

        file = checkpoint.find(path)
        state = checkpoint.load(file, map_location="cpu")
        if state["algo"] != cls.algo_name:
            raise ThermorlError(f"checkpoint {str(path)!r} holds a {state['algo']!r} run, "
                                f"not {cls.algo_name!r}")
        data = yaml.safe_load(state["config"])
        policy = data.get("policy")
        if isinstance(policy, dict) and "encoder" not in policy:
            policy["encoder"] = "mlp"  # saved before image encoders: its networks have none
        if device is not None:
            data["device"] = device
        data.update(config_changes)
        allowed = [m for m in [env_module(env)] if m is not None]
        limit = (contextlib.nullcontext() if trust_env_module
                 else only_importing(allowed, f"checkpoint {str(file)!r}"))
        with limit:
            algo = cls(env, from_dict(data), run_dir=run_dir)
            if algo.image is not None and not any(".convs." in k for k in state["policy"]):
                # saved before this kind of run had an image encoder (SAC's, or a Dict's with
                # images among its entries): "auto" then flattened the pixels into the MLP
                algo.close()
                policy["encoder"] = "mlp"
                algo = cls(env, from_dict(data), run_dir=run_dir)
        restore(algo, state, path, data.get("env_id"))
        algo._resumed_at = algo.global_step
        return algo
