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
          choices: tuple[Any, ...] | None = None, parse: Any = None,
          accepts: str | None = None, deep: bool = False, each: type | None = None) -> Any:
    """A dataclass field with its help text and accepted range.

    `parse(value, path)` checks a structured value (a schedule, a target) and returns its plain
    config form; `accepts` describes it in errors and help; `deep` merges a mapping value key by
    key across config layers instead of replacing it; `each` (a section class) makes the value a
    mapping of names to overrides of that section. `each` is a class, not a parse function,
    because checking a section needs `config_io`, which imports this module."""
    meta = {"help": help, "gt": gt, "ge": ge, "lt": lt, "le": le, "choices": choices,
            "parse": parse, "accepts": accepts, "deep": deep, "each": each}
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
    clip_vloss_coef: float = param(0.2, "clip_vloss: the value may move at most this far from "
                                        "the rollout's value per update; never annealed, so "
                                        "anneal_clip cannot freeze the value function", gt=0)
    ent_coef: float = param(0.0, "entropy bonus coefficient, the same for every head")
    vf_coef: float = param(0.5, "value loss coefficient", ge=0)
    max_grad_norm: float = param(0.5, "global gradient-norm clip (0 disables)", ge=0)
    target_kl: float | None = param(None, "stop the update's epochs early once approx KL exceeds "
                                          "this (null disables)", gt=0)
    norm_obs: bool = param(False, "running mean/std observation normalization")
    norm_reward: bool = param(False, "scale rewards by the std of the discounted return")
    clip_obs: float = param(10.0, "clip normalized observations to +/- this", gt=0)
    clip_reward: float = param(10.0, "clip scaled rewards to +/- this", gt=0)
    recurrent: str = param("none", "recurrent core after the MLP body: none (feed-forward), "
                           "lstm or gru; trained on sequences (docs/recurrent.md)",
                           choices=("none", "lstm", "gru"))
    seq_len: int = param(16, "recurrent: steps per training sequence (cut at episode starts "
                             "too; shorter ones are padded and masked)", ge=1)
    rnn_hidden: int = param(64, "recurrent: hidden units of the LSTM/GRU core", ge=1)
    shared_rnn: bool = param(False, "recurrent: actor and critic share one body and core "
                                    "(false: each has its own)")
    burn_in: int = param(0, "recurrent: re-compute each sequence's start state by running the "
                            "current network over up to this many earlier steps of its episode "
                            "(0: use the state stored in the rollout); below seq_len", ge=0)
    fused: bool = param(True, "hand-written forward and backward for feed-forward MLP policies "
                              "(tanh or relu; categorical or plain Gaussian heads), several "
                              "times faster on CPU than autograd; other policies use autograd "
                              "either way (docs/ppo.md)")


@dataclass(frozen=True)
class SACConfig:
    """Soft Actor-Critic (Haarnoja et al., 2018): twin Q networks, Polyak-averaged targets, a
    tanh-squashed Gaussian per continuous head, exact expectations over discrete heads. Its
    temperatures are the `entropy:` section's controllers (learned toward a target by default).
    Defaults follow Stable-Baselines3's SAC."""

    num_envs: int = param(1, "parallel environments in the vector env", ge=1)
    buffer_size: int | None = param(None, "replay buffer capacity, in transitions (null: "
                                          "1,000,000, or 100,000 when the observation holds "
                                          "images, DrQ's size for pixels)", ge=1)
    batch_size: int = param(256, "transitions per gradient step", ge=1)
    learning_rate: float = param(3e-4, "Adam learning rate of the actor and the critics", gt=0)
    gamma: float = param(0.99, "discount factor", ge=0, le=1)
    tau: float = param(0.005, "Polyak coefficient: target <- (1 - tau) * target + tau * online",
                       gt=0, le=1)
    learning_starts: int = param(100, "env steps of uniformly random actions before learning",
                                 ge=0)
    train_freq: int = param(1, "vector-env steps between rounds of gradient steps", ge=1)
    gradient_steps: int = param(1, "gradient steps per round", ge=1)
    log_interval: int = param(1000, "env steps per metrics row (and per checkpoint / Ctrl-C "
                                    "check)", ge=1)
    save_replay_buffer: bool = param(False, "also save the replay buffer in checkpoints, so a "
                                            "resumed run continues with its experience")


@dataclass(frozen=True)
class PolicyConfig:
    """Actor and critic networks and the action distributions."""

    hidden_sizes: tuple[int, ...] = param((64, 64), "hidden layer widths of actor and critic MLPs")
    encoder: str = param("auto", "auto: a convolutional encoder in front of the networks "
                                 "when the observation is an image (a Box (H, W, C) or (C, H, W), "
                                 "C <= 16, sides >= 8) or has images among its Dict/Tuple "
                                 "entries, else none; cnn: require it; mlp: never "
                                 "(pixels flattened)", choices=("auto", "cnn", "mlp"))
    activation: str = param("tanh", "hidden activation", choices=("tanh", "relu", "elu", "gelu"))
    log_std_init: float | None = param(None, "initial log-std of Gaussian heads (null: a learned "
                                       "head with an equal constraint starts at its target's "
                                       "start, every other head at 0)")
    state_dependent_std: bool = param(False, "Gaussian log-std computed from the state instead of "
                                             "a learned per-dimension parameter")
    log_std_min: float = param(-5.0, "lower bound of a Gaussian head's log-std")
    log_std_max: float = param(2.0, "upper bound of a Gaussian head's log-std")
    squash: bool = param(False, "tanh-squash bounded Gaussian heads onto their box instead of "
                                "clipping the sample when it is sent")
    parameterized: dict = param({}, "parameterized actions: {selector_head: {option: "
                                    "parameter_head}}; only the chosen option's parameter head "
                                    "counts in the log-prob and entropy",
                                parse=lambda v, path: _parameterized(v, path),
                                accepts="{selector_head: {option_index: parameter_head, ...}}")


WRAPPERS = ("a list of wrappers, each a name (a gymnasium.wrappers class, or module:Class) or "
            "{name: {keyword: value}}")


def _wrappers(value: Any, path: str) -> Any:
    from .envs.wrappers import parse
    return parse(value, path)


def _schedule(value: Any, path: str) -> Any:
    from .entropy import schedules
    return None if value is None else schedules.to_config(schedules.parse(value, path))


def _target(value: Any, path: str) -> Any:
    from .entropy import targets
    return None if value is None else targets.to_config(targets.parse(value, path))


def _plateau(value: Any, path: str) -> Any:
    from .errors import ConfigError
    if value is None:
        return None
    keys = {"patience", "factor", "floor", "smoothing", "min_delta"}
    if (not isinstance(value, dict) or not {"patience", "factor", "floor"} <= set(value)
            or set(value) - keys):
        raise ConfigError(f"{path}: expected {{patience: K, factor: F, floor: V}} (optional "
                          f"smoothing, min_delta), got {value!r}")
    p, f, fl = value["patience"], value["factor"], value["floor"]
    if not (isinstance(p, int) and p >= 1 and isinstance(f, (int, float)) and 0 < f < 1
            and isinstance(fl, (int, float)) and fl > 0):
        raise ConfigError(f"{path}: needs patience an integer >= 1, 0 < factor < 1 and floor > 0 "
                          f"(in the target's unit), got {value!r}")
    return dict(value)


def _noise(value: Any, path: str) -> Any:
    from .errors import ConfigError
    if value is None:
        return None
    if (not isinstance(value, dict) or set(value) != {"beta"}
            or isinstance(value["beta"], bool) or not isinstance(value["beta"], (int, float))
            or not 0 <= value["beta"] <= 4):
        raise ConfigError(f"{path}: expected {{beta: B}} with 0 <= B <= 4 (0 white, 1 pink, "
                          f"2 red), got {value!r}")
    return {"beta": float(value["beta"])}


SCHEDULE = "a number or a schedule ({start, end, shape} or {staged: [[p, v], ...]})"
TARGET = "auto, {nats: V}, {fraction: V} or {std: V} (V a number or a schedule)"


@dataclass(frozen=True)
class HeadEntropyConfig:
    """One head's overrides of the `entropy:` defaults (null: inherit)."""

    mode: str | None = param(None, "this head's mode",
                             choices=(None, "fixed", "scheduled", "learned"))
    coef: Any = param(None, "coefficient (fixed, scheduled) or initial one (learned)",
                      parse=_schedule, accepts=SCHEDULE)
    target: Any = param(None, "target entropy", parse=_target, accepts=TARGET)
    constraint: str | None = param(None, "this head's constraint", choices=(None, "equal", "min"))
    controller: str | None = param(None, "this head's controller", choices=(None, "pi", "dual"))
    kp: float | None = param(None, "proportional gain", ge=0)
    ki: float | None = param(None, "integral gain", ge=0)
    lr: float | None = param(None, "dual controller's learning rate", gt=0)
    coef_min: float | None = param(None, "min constraint: alpha floor", gt=0)
    coef_max: float | None = param(None, "bound on the coefficient's magnitude", gt=0)
    plateau: Any = param(None, "lower the target when returns plateau", parse=_plateau,
                         accepts="{patience: K, factor: F, floor: V}")
    noise: Any = param(None, "this Gaussian head's noise color", parse=_noise,
                       accepts="{beta: B}")
    actuator: str | None = param(None, "this head's actuator",
                                 choices=(None, "auto", "project", "coef"))


def _parameterized(value: Any, path: str) -> Any:
    from .errors import ConfigError
    form = "{selector_head: {option_index: parameter_head, ...}}"
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: expected {form}, got {value!r}")
    out: dict = {}
    for sel, options in value.items():
        if not isinstance(options, dict) or not options:
            raise ConfigError(f"{path}.{sel}: expected {{option_index: parameter_head}}, got "
                              f"{options!r}")
        out[str(sel)] = {}
        for k, head in options.items():
            try:
                idx = int(k)
            except (TypeError, ValueError):
                raise ConfigError(f"{path}.{sel}: option {k!r} is not an integer index") from None
            if not isinstance(head, str):
                raise ConfigError(f"{path}.{sel}.{k}: expected a head name, got {head!r}")
            out[str(sel)][idx] = head
    return out


@dataclass(frozen=True)
class EntropyConfig:
    """Per-head entropy: defaults for every head, overridden by name under `heads:`."""

    mode: str = param("fixed", "fixed: constant coefficient; scheduled: the coefficient follows "
                      "a schedule; learned: a controller drives each head's entropy to its target",
                      choices=("fixed", "scheduled", "learned"))
    coef: Any = param(None, "the coefficient (fixed, scheduled) or the initial one (learned); "
                      "null: ppo.ent_coef", parse=_schedule, accepts=SCHEDULE)
    target: Any = param("auto", "target entropy per head (learned mode; auto: half the maximum "
                        "for discrete heads, std 0.25 of the half-width for Gaussian ones)",
                        parse=_target, accepts=TARGET)
    constraint: str = param("equal", "learned: equal holds entropy AT the target with a signed "
                            "coefficient; min keeps entropy >= target with alpha > 0 (SAC)",
                            choices=("equal", "min"))
    controller: str = param("pi", "learned: pi (proportional + integral) or dual (a gradient "
                            "step on the coefficient)", choices=("pi", "dual"))
    kp: float = param(2.0, "PI proportional gain on the normalized error (on log alpha for "
                      "min)", ge=0)
    ki: float = param(0.05, "PI integral gain per minibatch (on log alpha for min)", ge=0)
    lr: float = param(0.01, "dual controller's Adam learning rate", gt=0)
    coef_min: float = param(1e-4, "min constraint: floor of alpha", gt=0)
    coef_max: float = param(0.5, "bound on the coefficient (its magnitude for equal)", gt=0)
    plateau: Any = param(None, "lower the target by `factor` when the smoothed return has not "
                         "improved for `patience` updates, down to `floor` (target's unit)",
                         parse=_plateau, accepts="{patience: K, factor: F, floor: V}")
    noise: Any = param(None, "exploration noise of every Gaussian head: {beta: 0} white (null "
                       "too), 1 pink, 2 red: power spectrum ~ 1/f^beta over time (PPO's "
                       "default is 0.5, see Defaults by algorithm)",
                       parse=_noise, accepts="{beta: B}, 0 <= B <= 4")
    collapse_fraction: float = param(0.1, "warn when a head's entropy (a Gaussian's std) falls "
                                     "below this fraction of its start ...", gt=0, lt=1)
    collapse_patience: int = param(20, "... for this many updates in a row", ge=1)
    actuator: str = param("auto", "learned heads: project moves the head's entropy parameters "
                          "to the target after each optimizer step (docs/entropy.md, "
                          "Authority); coef leaves it to the coefficient alone; auto: project "
                          "for PPO, coef for SAC", choices=("auto", "project", "coef"))
    unreachable_patience: int = param(10, "warn (stderr, warn/entropy_unreachable/<head>) when a "
                                          "learned head's actuator or coefficient sits at a bound "
                                          "while its entropy is off target by over 0.05 of its "
                                          "scale for this many updates in a row", ge=1)
    heads: dict = param({}, "per-head overrides by head name, e.g. {fire: {mode: scheduled}}",
                        each=HeadEntropyConfig, deep=True)


@dataclass(frozen=True)
class EvalConfig:
    """Periodic and final evaluation."""

    freq: int | None = param(None, "evaluate every this many env steps (null: ten times per run, "
                                   "0: only at the end)", ge=0)
    episodes: int = param(10, "episodes per evaluation", ge=1)
    deterministic: bool = param(True, "act with each head's mode instead of sampling")
    max_episode_steps: int = param(10_000, "an evaluation episode of an env without a time "
                                           "limit of its own ends (truncated) after this many "
                                           "steps, so a policy that never finishes one cannot "
                                           "hang the run (a two-agent duel: whatever the "
                                           "game's own limit)", ge=1)


@dataclass(frozen=True)
class LogConfig:
    """What a run writes besides its checkpoints."""

    tensorboard: bool = param(True, "write TensorBoard event files into the run directory")
    progress: str = param("auto", "progress bar: auto (only on a terminal), on, off",
                          choices=("auto", "on", "off"))
    checkpoint_freq: int = param(10, "save the latest checkpoint every this many updates", ge=1)


@dataclass(frozen=True)
class RunnersConfig:
    """Where the envs step (docs/runners.md)."""

    backend: str = param("local", "local: every env steps in the training process; async: "
                         "for envs whose step is slow, PPO's runners.num worker processes on "
                         "this machine each step a share of the envs with a copy of the "
                         "policy, and SAC steps each env in its own process (gymnasium's "
                         "AsyncVectorEnv); ray: runners.num Ray actors each step a share of "
                         "the envs with a copy of the policy (PPO)",
                         choices=("local", "async", "ray"))
    num: int = param(2, "PPO under async or ray: runners (processes or Ray actors), each "
                        "stepping a share of ppo.num_envs", ge=1)
    address: str | None = param(None, "ray: the Ray cluster to join (HOST:PORT, or auto); null "
                                      "starts a local Ray")


@dataclass(frozen=True)
class SelfPlayConfig:
    """Self-play on a two-agent zero-sum PettingZoo parallel env whose agents share spaces
    (docs/dogfight.md, Self-play): the learner plays against frozen snapshots of itself."""

    enabled: bool = param(False, "train against an opponent pool instead of the single-agent "
                                 "env; env_id then names a two-agent env (thermorl/Dogfight-v0 "
                                 "or module:factory returning a PettingZoo ParallelEnv)")
    save_steps: int = param(20_000, "keep a snapshot of the learner's weights every this many "
                                    "env steps", ge=1)
    swap_steps: int = param(10_000, "draw the next opponent every this many env steps", ge=1)
    window: int = param(10, "the newest this many snapshots stay in the pool", ge=1)
    latest_ratio: float = param(0.5, "chance that a draw gives the learner's latest weights "
                                     "instead of a snapshot or the scripted opponent", ge=0, le=1)
    scripted_weight: float = param(0.0, "the env's scripted opponent's weight in a draw "
                                        "against 1 per snapshot (0: left out of the pool); "
                                        "needs an env that offers one", ge=0)
    elo_k: float = param(16.0, "Elo factor: the most a rating moves in one duel", gt=0)
    gate: float = param(0.0, "a new snapshot enters the pool only if it scores at least this "
                             "(a win 1, a draw 1/2) in gate_duels duels against the pool's "
                             "newest snapshot, both acting with their modes; 0: every snapshot "
                             "enters", ge=0, le=1)
    gate_duels: int = param(100, "duels per gate (used when gate > 0)", ge=1)
    eval_duels: int = param(20, "duels per periodic evaluation against the pool's snapshots "
                                "(shared among them; the scripted opponent gets eval.episodes)",
                            ge=1)


@dataclass(frozen=True)
class Config:
    """A whole run. YAML files and dotted CLI overrides map onto these fields."""

    env_id: str = param("CartPole-v1", "gymnasium env id, or module:EnvId for your own")
    algo: str = param("ppo", "algorithm (sac changes some defaults: see docs/sac.md)",
                      choices=("ppo", "sac"))
    total_timesteps: int = param(100_000, "env steps to train for", ge=1)
    seed: int = param(1, "seed for torch, numpy and the envs", ge=0)
    device: str = param("cpu", "torch device: cpu, cuda, cuda:N or auto")
    torch_threads: int = param(1, "torch intra-op threads (small MLPs run fastest on 1; "
                                  "0 keeps torch's default)", ge=0)
    preset: str = param("auto", "hyperparameter preset: auto (by env id), none, or a preset name")
    env_kwargs: dict = param({}, "keyword arguments for gymnasium.make", deep=True)
    env_wrappers: list = param([], "gymnasium wrappers around every env, the first innermost: "
                                   "[AtariPreprocessing, {FrameStackObservation: {stack_size: "
                                   "4}}] (docs/observation_spaces.md)",
                               parse=lambda v, path: _wrappers(v, path), accepts=WRAPPERS)
    ppo: PPOConfig = field(default_factory=PPOConfig, metadata={"help": "PPO hyperparameters"})
    sac: SACConfig = field(default_factory=SACConfig, metadata={"help": "SAC hyperparameters"})
    policy: PolicyConfig = field(default_factory=PolicyConfig,
                                 metadata={"help": "networks and distributions"})
    entropy: EntropyConfig = field(default_factory=EntropyConfig,
                                   metadata={"help": "per-head entropy control"})
    eval: EvalConfig = field(default_factory=EvalConfig, metadata={"help": "evaluation"})
    log: LogConfig = field(default_factory=LogConfig, metadata={"help": "logging"})
    runners: RunnersConfig = field(default_factory=RunnersConfig,
                                   metadata={"help": "where the envs step"})
    selfplay: SelfPlayConfig = field(default_factory=SelfPlayConfig,
                                     metadata={"help": "self-play against an opponent pool"})


def replace(cfg: Any, **changes: Any) -> Any:
    """`dataclasses.replace`, re-exported so callers need one import for configs."""
    return dataclasses.replace(cfg, **changes)
