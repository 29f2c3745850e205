"""Evaluation: whole fresh episodes of a policy on a vector env of its own, through a
collector whose normalizer statistics stay frozen."""

from __future__ import annotations

from typing import Any, Callable

import gymnasium as gym
import numpy as np
import torch
from torch import Tensor

from ..entropy.noise import ColoredNoise
from ..envs.spaces import ActionLayout, ObsLayout
from ..normalize import ObsNormalizer
from .collector import Collector

MAX_EVAL_ENVS = 8

# policy_act(obs, masks, state or None) -> (the policy's distribution, its next state)
PolicyAct = Callable[[Tensor, dict[str, Tensor], Any], tuple[Any, Any]]


class Evaluator:
    """Keeps one eval env (rebuilt when the number of envs changes) and runs episodes on it."""

    def __init__(self, make_envs: Callable[[int], gym.vector.VectorEnv], obs_layout: ObsLayout,
                 action_layout: ActionLayout, device: torch.device,
                 obs_norm: ObsNormalizer | None, clock: Callable[[], int]):
        self.make_envs, self.obs_layout, self.action_layout = make_envs, obs_layout, action_layout
        self.device, self.obs_norm, self.clock = device, obs_norm, clock
        self.collector: Collector | None = None

    def _collector(self, n: int) -> Collector:
        if self.collector is None or self.collector.num_envs != n:
            self.close()
            self.collector = Collector(self.make_envs(n), self.obs_layout, self.action_layout,
                                       self.device, self.obs_norm, update_norm=False,
                                       clock=self.clock)
        return self.collector

    @torch.inference_mode()
    def run(self, policy_act: PolicyAct, initial_state: Callable[[int], Any],
            make_noise: Callable[[int, int], dict[str, ColoredNoise]], episodes: int,
            deterministic: bool, seed: int) -> dict[str, Any]:
        """Mean and std of the return over `episodes` episodes, split evenly over up to
        `MAX_EVAL_ENVS` envs. A stochastic evaluation draws from its own generator (so it
        does not shift the training's samples) and explores as training does, colored noise
        (`make_noise(num_envs, seed)`) included; a stateful policy's state is zeroed where an
        episode begins."""
        n = min(episodes, MAX_EVAL_ENVS)
        ev = self._collector(n)
        gen = torch.Generator(self.device).manual_seed(seed)
        ev.noise = {} if deterministic else make_noise(n, seed)
        carry = {"state": initial_state(n)}

        def act(obs: Tensor, masks: Any, starts: np.ndarray) -> tuple[Any, None]:
            state = carry["state"]
            if state is not None:
                fresh = torch.as_tensor(starts, device=self.device).unsqueeze(-1)
                state = torch.where(fresh, torch.zeros_like(state), state)
            dist, carry["state"] = policy_act(obs, masks, state)
            return (dist.mode() if deterministic else dist.sample(gen, ev.noise_eps())), None

        res = ev.episodes(act, episodes, seed)
        out = {"mean_return": float(res.returns.mean()), "std_return": float(res.returns.std()),
               "episodes": int(len(res.returns)), "mean_length": float(res.lengths.mean()),
               "returns": res.returns.tolist()}
        if res.outcomes:  # envs that judge their episodes (a duel's win/loss/draw)
            out["outcomes"] = {o: res.outcomes.count(o) / len(res.outcomes)
                               for o in sorted(set(res.outcomes))}
            out["outcome_counts"] = {o: res.outcomes.count(o) for o in sorted(set(res.outcomes))}
        return out

    def close(self) -> None:
        if self.collector is not None:
            self.collector.close()
            self.collector = None
