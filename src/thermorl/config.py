"""Frozen dataclass configs: the one source of truth for the CLI, YAML files and Python.

Each field carries its help text and its accepted range in `metadata`, so `--help`, validation
errors and the docs all read the same words. Loading, overrides and presets live in `config_io`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


def param(default: Any, help: str, *, gt: float | None = None, ge: float | None = None,
          lt: float | None = None, le: float | None = None,
          choices: tuple[Any, ...] | None = None) -> Any:
    """A dataclass field with its help text and accepted range."""
    meta = {"help": help, "gt": gt, "ge": ge, "lt": lt, "le": le, "choices": choices}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class PPOConfig:
    """Proximal Policy Optimization (Schulman et al., 2017). Names follow CleanRL's."""

    num_envs: int = param(8, "parallel environments in the vector env", ge=1)
    num_steps: int = param(128, "steps per env in each rollout", ge=1)
    num_minibatches: int = param(4, "minibatches per epoch; must divide num_envs * num_steps", ge=1)
    update_epochs: int = param(4, "passes over each rollout", ge=1)
    learning_rate: float = param(3e-4, "Adam learning rate (initial, if annealed)", gt=0)
    anneal_lr: bool = param(False, "anneal the learning rate linearly to 0 over training")
    gamma: float = param(0.99, "discount factor", ge=0, le=1)
    gae_lambda: float = param(0.95, "GAE lambda: 0 is one-step TD, 1 is Monte Carlo", ge=0, le=1)
    norm_adv: bool = param(True, "normalize advantages per minibatch")
    clip_coef: float = param(0.2, "surrogate clipping: ratio kept within 1 +/- clip_coef", gt=0)
    anneal_clip: bool = param(False, "anneal clip_coef linearly to 0 over training")
    clip_vloss: bool = param(False, "clipped value loss: max of clipped and unclipped errors")
    ent_coef: float = param(0.0, "entropy bonus coefficient, the same for every head")
    vf_coef: float = param(0.5, "value loss coefficient", ge=0)
    max_grad_norm: float = param(0.5, "global gradient-norm clip (0 disables)", ge=0)
    target_kl: float | None = param(None, "stop the update's epochs early once approx KL exceeds "
                                          "this (null disables)", gt=0)
    norm_obs: bool = param(False, "running mean/std observation normalization")
    norm_reward: bool = param(False, "scale rewards by the std of the discounted return")
    clip_obs: float = param(10.0, "clip normalized observations to +/- this", gt=0)
    clip_reward: float = param(10.0, "clip scaled rewards to +/- this", gt=0)


@dataclass(frozen=True)
class PolicyConfig:
    """Actor and critic networks and the action distributions."""

    hidden_sizes: tuple[int, ...] = param((64, 64), "hidden layer widths of actor and critic MLPs")
    activation: str = param("tanh", "hidden activation", choices=("tanh", "relu", "elu", "gelu"))
    log_std_init: float = param(0.0, "initial log-std of Gaussian heads")
    state_dependent_std: bool = param(False, "Gaussian log-std computed from the state instead of "
                                             "a learned per-dimension parameter")
    log_std_min: float = param(-5.0, "lower bound of a Gaussian head's log-std")
    log_std_max: float = param(2.0, "upper bound of a Gaussian head's log-std")


@dataclass(frozen=True)
class EvalConfig:
    """Periodic and final evaluation."""

    freq: int | None = param(None, "evaluate every this many env steps (null: ten times per run, "
                                   "0: only at the end)", ge=0)
    episodes: int = param(10, "episodes per evaluation", ge=1)
    deterministic: bool = param(True, "act with each head's mode instead of sampling")


@dataclass(frozen=True)
class LogConfig:
    """What a run writes besides its checkpoints."""

    tensorboard: bool = param(True, "write TensorBoard event files into the run directory")
    progress: str = param("auto", "progress bar: auto (only on a terminal), on, off",
                          choices=("auto", "on", "off"))
    checkpoint_freq: int = param(10, "save the latest checkpoint every this many updates", ge=1)


@dataclass(frozen=True)
class Config:
    """A whole run. YAML files and dotted CLI overrides map onto these fields."""

    env_id: str = param("CartPole-v1", "gymnasium env id, or module:EnvId for your own")
    algo: str = param("ppo", "algorithm", choices=("ppo",))
    total_timesteps: int = param(100_000, "env steps to train for", ge=1)
    seed: int = param(1, "seed for torch, numpy and the envs", ge=0)
    device: str = param("cpu", "torch device: cpu, cuda, cuda:N or auto")
    torch_threads: int = param(1, "torch intra-op threads (small MLPs run fastest on 1; "
                                  "0 keeps torch's default)", ge=0)
    preset: str = param("auto", "hyperparameter preset: auto (by env id), none, or a preset name")
    env_kwargs: dict = param({}, "keyword arguments for gymnasium.make")
    ppo: PPOConfig = field(default_factory=PPOConfig, metadata={"help": "PPO hyperparameters"})
    policy: PolicyConfig = field(default_factory=PolicyConfig,
                                 metadata={"help": "networks and distributions"})
    eval: EvalConfig = field(default_factory=EvalConfig, metadata={"help": "evaluation"})
    log: LogConfig = field(default_factory=LogConfig, metadata={"help": "logging"})


SECTIONS: dict[str, type] = {
    f.name: f.type if isinstance(f.type, type) else globals()[f.type]
    for f in dataclasses.fields(Config) if f.name in ("ppo", "policy", "eval", "log")
}


def replace(cfg: Any, **changes: Any) -> Any:
    """`dataclasses.replace`, re-exported so callers need one import for configs."""
    return dataclasses.replace(cfg, **changes)
