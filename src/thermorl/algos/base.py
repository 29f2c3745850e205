"""What every algorithm shares: device and seeding, the run directory, evaluation, checkpoints,
Ctrl-C handling and the non-finite checks. Algorithms add collect() and update()."""

from __future__ import annotations

import contextlib
import json
import math
import signal
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any, Iterator

import gymnasium as gym
import numpy as np
import torch

from .. import checkpoint
from ..config import Config
from ..config_io import from_dict, to_yaml
from ..entropy.noise import ColoredNoise, noise_eps, restart_noise
from ..envs import EnvSource, make_vector_env
from ..envs.masks import read_masks
from ..envs.parameterized import used_when
from ..envs.spaces import ActionLayout, ObsLayout
from ..errors import ThermorlError, TrainingDiverged
from ..logging import RunLogger
from ..normalize import ObsNormalizer
from ..progress import ProgressBar
from .evaluate import run_episodes

RECENT_EPISODES = 20  # episode/return is the mean over this many most recent episodes


def _first(action: Any) -> Any:
    """The first env's action out of a batched (possibly nested) action."""
    if isinstance(action, dict):
        return {k: _first(v) for k, v in action.items()}
    if isinstance(action, tuple):
        return tuple(_first(v) for v in action)
    return action[0]


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during learn(): a checkpoint was saved at `path` (None without a run dir)."""

    def __init__(self, step: int, path: Path | None):
        super().__init__(f"interrupted at step {step}")
        self.step, self.path = step, path


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ThermorlError(f"device {name!r} asked for, but torch sees no CUDA device; "
                            f"use --device cpu")
    return dev


class Algorithm:
    """Shared run mechanics. Subclasses set `self.policy`, `self.optimizer` and implement
    `_train_step()` (one collect + update, returning metrics), `_state()` and `_load_state()`."""

    algo_name = "base"

    def __init__(self, env: EnvSource | None, config: Config, run_dir: str | Path | None = None):
        self.config = cfg = config
        self.env_source: EnvSource = env if env is not None else cfg.env_id
        self.device = resolve_device(cfg.device)
        if cfg.torch_threads:
            torch.set_num_threads(cfg.torch_threads)
        self.envs = make_vector_env(self.env_source, self.num_envs, cfg.env_kwargs)
        self.obs_space = self.envs.single_observation_space
        self.action_space = self.envs.single_action_space
        self.action_layout = ActionLayout(self.action_space, squash=cfg.policy.squash)
        self.heads = self.action_layout.heads
        self.used_when = used_when(cfg.policy.parameterized, self.heads)
        self.obs_layout = ObsLayout(self.obs_space)
        self.obs_dim = self.obs_layout.dim
        self.obs_norm = (ObsNormalizer((self.obs_dim,), cfg.ppo.clip_obs)
                         if self._norm_obs else None)
        # The run's own generators, so its randomness does not depend on other torch users.
        self.sample_gen = torch.Generator(self.device).manual_seed(cfg.seed)
        self.shuffle_gen = torch.Generator().manual_seed(cfg.seed + 1)
        self.global_step = 0
        self.updates = 0
        self.elapsed = 0.0
        # where training time goes (seconds): env stepping, collection besides it (inference,
        # buffers), gradient updates; the rest of `elapsed` is logging and bookkeeping
        self.timing = dict.fromkeys(("env", "collect", "update"), 0.0)
        self.best_eval = -math.inf
        self.recent_returns: deque[float] = deque(maxlen=RECENT_EPISODES)
        self.recent_lengths: deque[int] = deque(maxlen=RECENT_EPISODES)
        self.final_eval: dict[str, Any] | None = None
        self._eval_envs: gym.vector.VectorEnv | None = None
        self._obs: np.ndarray | None = None
        self._cur_masks: dict[str, torch.Tensor] = {}
        # next-step autoreset: True where the last step ended an episode, so this one only resets
        self._prev_end = np.zeros(self.num_envs, bool)
        self._ep_ret = np.zeros(self.num_envs)
        self._ep_len = np.zeros(self.num_envs, int)
        self._stop = False
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.logger = RunLogger(self.run_dir, cfg.log.tensorboard)
        if self.run_dir is not None:
            (self.run_dir / "config.yaml").write_text(to_yaml(cfg))

    # -- subclass hooks -------------------------------------------------------------------
    num_envs: int
    _norm_obs: bool = False
    recurrent: bool = False  # a policy with a hidden state (`policy.step`, `state_size`)

    def _train_step(self, total: int) -> dict[str, float]:
        raise NotImplementedError

    def _step_envs(self, env_action: Any) -> tuple[Any, ...]:
        """`envs.step`, timed into `timing["env"]`."""
        t = time.perf_counter()
        out = self.envs.step(env_action)
        self.timing["env"] += time.perf_counter() - t
        return out

    def time_breakdown(self) -> dict[str, float]:
        """Seconds of training so far by phase: env stepping, rollout inference (collection
        besides the env), gradient updates, and other (logging, evaluation, bookkeeping)."""
        t = self.timing
        out = {"env": t["env"], "inference": t["collect"] - t["env"], "update": t["update"]}
        out["other"] = max(self.elapsed - sum(out.values()), 0.0)
        return out

    def _state(self) -> dict[str, Any]:
        raise NotImplementedError

    def _on_env_reset(self) -> None:
        """Every training env was just reset (episodes restart, on resume too)."""
        self._prev_end[:] = False

    def _load_state(self, state: dict[str, Any]) -> None:
        raise NotImplementedError

    def _make_noise(self, num_envs: int, seed: int) -> dict[str, ColoredNoise]:
        """Colored-noise sources for the Gaussian heads whose beta is above 0."""
        return {h: ColoredNoise(c.s.noise_beta, num_envs, self.heads[h].dim, seed * 1009 + i)
                for i, (h, c) in enumerate(self.entropy.heads.items()) if c.s.noise_beta > 0}

    def _track_episodes(self, reward: np.ndarray, end: np.ndarray, real: np.ndarray) -> None:
        """Episode returns and lengths for `episode/*`; reset-only steps (not `real`) add
        nothing."""
        self._ep_ret += np.where(real, reward, 0.0)
        self._ep_len += real
        if not end.any():
            return
        for i in np.flatnonzero(end & real):
            self.recent_returns.append(float(self._ep_ret[i]))
            self.recent_lengths.append(int(self._ep_len[i]))
        self._ep_ret[end] = 0.0
        self._ep_len[end] = 0

    # -- observations and actions ---------------------------------------------------------
    def _prep_obs(self, obs: Any, update: bool) -> np.ndarray:
        """Flatten, check, and (optionally) normalize a batch of env observations."""
        flat = self.obs_layout.flatten(obs)
        self._check_finite("observation", flat)
        return self.obs_norm(flat, update) if self.obs_norm is not None else flat

    def _masks(self, info: Any, obs: Any) -> dict[str, torch.Tensor]:
        n = len(next(iter(obs.values()))) if isinstance(obs, dict) else len(obs)
        return {k: torch.as_tensor(m, device=self.device)
                for k, m in read_masks(info, obs, self.heads, n, self.global_step).items()}

    def _check_finite(self, what: str, x: np.ndarray) -> None:
        if not np.isfinite(x).all():
            bad = np.flatnonzero(~np.isfinite(x).reshape(x.shape[0], -1).all(1))
            raise TrainingDiverged(
                f"NaN or Inf in the {what} from env {int(bad[0])} at global step "
                f"{self.global_step}; training stopped{self._last_good()}")

    def _last_good(self) -> str:
        f = self.run_dir / "checkpoints" / "latest.pt" if self.run_dir else None
        if f is not None and f.is_file():
            return f"; the last good checkpoint is {f}"
        return "; no checkpoint had been saved yet"

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
        single = self.obs_layout.single(obs)
        if single:
            obs = self.obs_layout.batch(obs)
            if action_mask is not None:
                action_mask = ({k: np.asarray(v)[None] for k, v in action_mask.items()}
                               if isinstance(action_mask, dict) else np.asarray(action_mask)[None])
        info = {} if action_mask is None else {"action_mask": action_mask}
        if self.recurrent:
            n = len(self.obs_layout.flatten(obs))
            state = (self.policy.initial_state(n, self.device) if state is None
                     else torch.as_tensor(state, device=self.device).reshape(n, -1))
            if episode_start is not None:
                fresh = torch.as_tensor(np.asarray(episode_start, bool).reshape(n, 1),
                                        device=self.device)
                state = torch.where(fresh, torch.zeros_like(state), state)
        env_act, state = self._act(obs, info, deterministic, generator or self.sample_gen,
                                   state=state)
        if not self.recurrent:
            return _first(env_act) if single else env_act
        return (_first(env_act), state[0]) if single else (env_act, state)

    @torch.inference_mode()
    def _act(self, obs: Any, info: Any, deterministic: bool, generator: torch.Generator,
             noise: dict[str, ColoredNoise] | None = None, state: torch.Tensor | None = None
             ) -> tuple[Any, torch.Tensor | None]:
        """Batched env action for a batch of observations and the vector env's `info`, and a
        recurrent policy's next `state` (None for a feed-forward one)."""
        masks = self._masks(info, obs)
        batch = torch.as_tensor(self._prep_obs(obs, update=False), device=self.device)
        if state is None:
            dist = self.policy.dist(batch, masks)
        else:
            dist, _, state = self.policy.step(batch, state, masks)
        acts = (dist.mode() if deterministic
                else dist.sample(generator, noise_eps(noise or {}, self.device)))
        return self.action_layout.to_env({k: v.cpu().numpy() for k, v in acts.items()}), state

    def evaluate(self, episodes: int | None = None, deterministic: bool | None = None,
                 seed: int | None = None) -> dict[str, Any]:
        """Mean and std of the return over `episodes` fresh episodes (config's eval settings by
        default). Normalizer statistics are frozen while evaluating."""
        episodes = episodes or self.config.eval.episodes
        det = self.config.eval.deterministic if deterministic is None else deterministic
        if self._eval_envs is None or self._eval_envs.num_envs != min(episodes, 8):
            self._eval_envs = make_vector_env(self.env_source, min(episodes, 8),
                                              self.config.env_kwargs)
        seed = self.config.seed + 10_000 if seed is None else seed
        # its own generator: a stochastic evaluation must not shift the training's samples
        gen = torch.Generator(self.device).manual_seed(seed)
        # stochastic evaluation explores as training does, colored noise included
        noise = {} if det else self._make_noise(self._eval_envs.num_envs, seed)
        # a recurrent policy's hidden state per eval env, zeroed where an episode begins
        carry = {"state": (self.policy.initial_state(self._eval_envs.num_envs, self.device)
                           if self.recurrent else None)}

        def act(obs: Any, info: Any) -> Any:
            env_act, carry["state"] = self._act(obs, info, det, gen, noise, carry["state"])
            return env_act

        def new_episode(envs: np.ndarray) -> None:
            restart_noise(noise, envs)
            if carry["state"] is not None:
                carry["state"] = carry["state"].index_fill(  # out of place: an inference tensor
                    0, torch.as_tensor(envs, device=self.device), 0.0)

        returns, lengths, outcomes = run_episodes(self._eval_envs, act, episodes, seed,
                                                  on_new_episode=new_episode)
        out = {"mean_return": float(returns.mean()), "std_return": float(returns.std()),
               "episodes": int(len(returns)), "mean_length": float(lengths.mean()),
               "returns": returns.tolist()}
        if outcomes:  # envs that judge their episodes (a duel's win/loss/draw)
            out["outcomes"] = {o: outcomes.count(o) / len(outcomes) for o in sorted(set(outcomes))}
        return out

    # -- training loop --------------------------------------------------------------------
    def learn(self, total_timesteps: int | None = None) -> "Algorithm":
        """Train until `total_timesteps` env steps in all (the config's by default); a resumed
        run continues toward the same total."""
        cfg = self.config
        total = total_timesteps or cfg.total_timesteps
        eval_every = cfg.eval.freq if cfg.eval.freq is not None else max(total // 10, 1)
        next_eval = (self.global_step // eval_every + 1) * eval_every if eval_every else None
        if self._obs is None:
            obs, info = self.envs.reset(seed=cfg.seed + self.global_step)
            self._obs = self._prep_obs(obs, update=True)
            self._cur_masks = self._masks(info, obs)
            self._on_env_reset()
        bar = ProgressBar(total, f"{cfg.env_id} {self.algo_name}", cfg.log.progress)
        try:
            with self._catch_sigint():
                while self.global_step < total:
                    t0 = time.perf_counter()
                    metrics = self._train_step(total)
                    self.elapsed += time.perf_counter() - t0
                    metrics["perf/time"] = self.elapsed
                    metrics.update({f"perf/{k}_total_s": v for k, v in self.timing.items()})
                    if next_eval is not None and self.global_step >= next_eval:
                        next_eval += eval_every
                        metrics.update(self._periodic_eval())
                    self.logger.log(metrics, self.global_step)
                    bar.update(self.global_step, metrics)
                    if self.run_dir is not None and self.updates % cfg.log.checkpoint_freq == 0:
                        self.save(self.run_dir / "checkpoints" / "latest.pt")
                    if self._stop:
                        path = None
                        if self.run_dir is not None:
                            path = self.save(self.run_dir / "checkpoints" / "latest.pt")
                        raise TrainingInterrupted(self.global_step, path)
        finally:
            bar.close()
            self.logger.flush()
        self._finish()
        return self

    def _periodic_eval(self) -> dict[str, float]:
        ev = self.evaluate()
        if self.run_dir is not None and ev["mean_return"] >= self.best_eval:
            self.best_eval = ev["mean_return"]
            self.save(self.run_dir / "checkpoints" / "best.pt")
        self.best_eval = max(self.best_eval, ev["mean_return"])
        return {"eval/mean_return": ev["mean_return"], "eval/std_return": ev["std_return"],
                **{f"eval/{o}_rate": r for o, r in ev.get("outcomes", {}).items()}}

    def _finish(self) -> None:
        self.final_eval = self.evaluate()
        if self.run_dir is None:
            return
        self.save(self.run_dir / "checkpoints" / "latest.pt")
        if self.final_eval["mean_return"] >= self.best_eval:
            self.best_eval = self.final_eval["mean_return"]
            self.save(self.run_dir / "checkpoints" / "best.pt")
        summary = {"env_id": self.config.env_id, "algo": self.algo_name,
                   "global_step": self.global_step, "updates": self.updates,
                   "wall_time_s": round(self.elapsed, 3),
                   "final_eval": {k: v for k, v in self.final_eval.items() if k != "returns"},
                   "best_eval_mean_return": self.best_eval,
                   "last_metrics": self.logger.latest}
        (self.run_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        self.logger.flush()

    @contextlib.contextmanager
    def _catch_sigint(self) -> Iterator[None]:
        """First Ctrl-C: finish the current update, save, stop. A second one stops at once."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum: int, frame: Any) -> None:
            if self._stop:
                raise KeyboardInterrupt
            self._stop = True

        old = signal.signal(signal.SIGINT, handler)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, old)
            self._stop = False

    # -- checkpoints ----------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write a checkpoint (atomically) with everything needed to resume exactly."""
        state = {
            "algo": self.algo_name, "config": to_yaml(self.config),
            "global_step": self.global_step, "updates": self.updates, "elapsed": self.elapsed,
            "timing": dict(self.timing),
            "best_eval": self.best_eval if math.isfinite(self.best_eval) else None,
            "recent_returns": list(self.recent_returns),
            "recent_lengths": list(self.recent_lengths),
            "policy": self.policy.state_dict(), "optimizer": self.optimizer.state_dict(),
            "obs_rms": self.obs_norm.rms.state_dict() if self.obs_norm else None,
            "sample_gen": self.sample_gen.get_state(), "shuffle_gen": self.shuffle_gen.get_state(),
            **self._state(),
        }
        return checkpoint.save(state, path)

    @classmethod
    def load(cls, path: str | Path, env: EnvSource | None = None,
             run_dir: str | Path | None = None, device: str | None = None,
             **config_changes: Any) -> "Algorithm":
        """Rebuild from a checkpoint file (or a run directory's latest one)."""
        import yaml

        state = checkpoint.load(checkpoint.find(path), map_location="cpu")
        if state["algo"] != cls.algo_name:
            raise ThermorlError(f"checkpoint {str(path)!r} holds a {state['algo']!r} run, "
                                f"not {cls.algo_name!r}")
        data = yaml.safe_load(state["config"])
        if device is not None:
            data["device"] = device
        data.update(config_changes)
        algo = cls(env, from_dict(data), run_dir=run_dir)
        algo.policy.load_state_dict(state["policy"])
        try:
            algo.optimizer.load_state_dict(state["optimizer"])
        except ValueError as e:  # the parameter groups differ: fused (one flat tensor) or not
            raise ThermorlError(
                f"checkpoint {str(path)!r}: its optimizer state does not fit this policy's "
                f"optimizer ({e}). A PPO checkpoint written with ppo.fused false, or by a "
                f"thermorl before the fused path, resumes with --ppo.fused false") from None
        if algo.obs_norm is not None and state["obs_rms"] is not None:
            algo.obs_norm.rms.load_state_dict(state["obs_rms"])
        algo.global_step, algo.updates = state["global_step"], state["updates"]
        algo.elapsed = state["elapsed"]
        algo.timing.update(state.get("timing", {}))  # absent in checkpoints written before it
        algo.best_eval = -math.inf if state["best_eval"] is None else state["best_eval"]
        algo.recent_returns.extend(state["recent_returns"])
        algo.recent_lengths.extend(state["recent_lengths"])
        algo.sample_gen.set_state(state["sample_gen"])
        algo.shuffle_gen.set_state(state["shuffle_gen"])
        algo._load_state(state)
        return algo
