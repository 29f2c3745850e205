"""Hyperparameter presets by env id, applied automatically (`preset: auto`) and overridable,
and the defaults that differ by algorithm.

Each preset is a nested dict in the YAML layout, so it passes through the same validation as a
user's file. Sources are named beside each one. A SAC preset is named `sac/<env id>`; with
`algo: sac`, `preset: auto` looks for that name.
"""

from __future__ import annotations

from typing import Any

# Laid over the dataclass defaults when `algo` selects the algorithm, before any preset. SAC's
# networks and its temperature are Stable-Baselines3's SAC defaults: 256x256 ReLU MLPs, a
# state-dependent log-std, tanh-squashed Gaussians, and alpha = exp(log_alpha) learned (a dual
# step, Adam at SAC's learning rate) from 1.0 toward the target, kept >= the target (min).
ALGO_DEFAULTS: dict[str, dict[str, Any]] = {
    # beta 0.5 matches white noise on Pendulum-v1 and the duel and beats it on Momentum-v0
    # (docs/entropy.md, "The default beta"); SAC's stays white: pink was behind it on
    # HalfCheetah-v5 and Hopper-v5 (benchmarks/sac_noise.py, a first look at 40k steps)
    "ppo": {"entropy": {"noise": {"beta": 0.5}}},
    "sac": {
        "policy": {"hidden_sizes": [256, 256], "activation": "relu", "squash": True,
                   "state_dependent_std": True},
        "entropy": {"mode": "learned", "constraint": "min", "controller": "dual", "coef": 1.0,
                    "lr": 3e-4, "coef_max": 100.0},
    },
}

def _zoo_mujoco_ppo(**ppo: Any) -> dict[str, Any]:
    """What rl-baselines3-zoo's tuned MuJoCo PPO sets share, with one task's `ppo` values: one
    env, 512-step rollouts (minibatches of 64 are num_minibatches 8), observations and rewards
    normalized (the zoo's VecNormalize), 256x256 ReLU networks with log-std starting at -2, the
    zoo's entropy coefficient as a fixed coefficient, white noise as the zoo samples, 1M steps.
    Not carried over: the zoo's ortho_init=False (thermorl's init is orthogonal)."""
    return {
        "total_timesteps": 1_000_000,
        "ppo": {"num_envs": 1, "num_steps": 512, **ppo, "norm_obs": True, "norm_reward": True},
        "policy": {"hidden_sizes": [256, 256], "activation": "relu", "log_std_init": -2.0},
        "entropy": {"noise": {"beta": 0.0}},
    }


# What `preset: auto` gives a PPO run on an env without a preset of its own, whatever its action
# space: CleanRL's continuous-control set (ppo_continuous_action.py; Huang et al., "The 37
# implementation details of PPO"): 2048-step rollouts, 10 epochs of 32 minibatches, the learning
# rate annealed, observations and rewards normalized; from 4 envs x 512 steps in place of 1 x 2048
# (the same rollout from a quarter of the policy calls). Chosen from benchmarks/defaults.py's
# table over 13 tasks, discrete and continuous (docs/defaults.md), where it beat
# the dataclass defaults (CleanRL's classic-control set) on both kinds of space.
GENERAL = "general"
GENERAL_SET: dict[str, Any] = {
    "ppo": {"num_envs": 4, "num_steps": 512, "num_minibatches": 32, "update_epochs": 10,
            "anneal_lr": True, "norm_obs": True, "norm_reward": True},
}


# thermorl's own: PPO with per-head entropy targets on the duel's hybrid action space. The
# maneuver head is held at 0.3 of its maximum entropy, the (masked) fire head at half of
# log(valid actions) so it keeps trying to shoot, the throttle at std 0.3.
# Measured at 2M steps, duels won of 100: 71, 55, 67, 55, 61, 62, 54 (seeds 1-7; 6 and 7 are
# in tests/learning/test_dogfight_learning.py). Every seed wins most duels by 600k steps;
# 2M leaves room. docs/dogfight.md, "Training it", has the table and what mattered.
_DOGFIGHT: dict[str, Any] = {
    "total_timesteps": 2_000_000,
    "ppo": {
        "num_envs": 16, "num_steps": 128, "num_minibatches": 8, "update_epochs": 10,
        "learning_rate": 3e-4, "gamma": 0.99, "gae_lambda": 0.95,
    },
    "entropy": {
        "mode": "learned",
        "heads": {"maneuver": {"target": {"fraction": 0.3}},
                  "fire": {"target": {"fraction": 0.5}},
                  "throttle": {"target": {"std": 0.3}}},
        # white, as the win rates above were measured (beta 0.5 gives the same mean win
        # rate over three seeds at 1M steps, 0.58 vs 0.57, with another seed the late one)
        "noise": {"beta": 0.0},
    },
    "eval": {"episodes": 100},
}

PRESETS: dict[str, dict[str, Any]] = {
    # rl-baselines3-zoo's published PPO set for CartPole-v1 (lr and clip annealed linearly).
    "CartPole-v1": {
        "total_timesteps": 100_000,
        "ppo": {
            "num_envs": 8, "num_steps": 32, "num_minibatches": 1, "update_epochs": 20,
            "gamma": 0.98, "gae_lambda": 0.8, "learning_rate": 1e-3, "anneal_lr": True,
            "clip_coef": 0.2, "anneal_clip": True, "ent_coef": 0.0,
        },
    },
    # rl-baselines3-zoo's PPO set for Pendulum-v1 (4 envs, n_steps 1024, gamma 0.9, lambda 0.95,
    # 10 epochs, lr 1e-3, minibatch 64), with a plain Gaussian in place of the zoo's gSDE.
    "Pendulum-v1": {
        "total_timesteps": 100_000,
        "ppo": {
            "num_envs": 4, "num_steps": 1024, "num_minibatches": 64, "update_epochs": 10,
            "gamma": 0.9, "gae_lambda": 0.95, "learning_rate": 1e-3, "clip_coef": 0.2,
            "ent_coef": 0.0,
        },
    },
    "thermorl/Dogfight-v0": _DOGFIGHT,
    # Self-play on the duel (`preset: auto` picks it when selfplay.enabled): the preset above
    # with twice the envs (a batch of 4,096 steps in 8 minibatches of 512) and the learning
    # rate annealed to 0. Trained by self-play alone, duels won of 100 against the scripted
    # pilot at 2M steps: 69, 51, 63, 62, 61 (seeds 1-5), 56 and 70 (6 and 7, in
    # tests/learning/test_dogfight_learning.py); with 16 envs seeds 1-3 won 46, 66 and 28.
    # docs/dogfight.md, "Self-play", has the table and what mattered.
    "selfplay/thermorl/Dogfight-v0": {
        **_DOGFIGHT,
        "ppo": {**_DOGFIGHT["ppo"], "num_envs": 32, "anneal_lr": True},
        "selfplay": {"enabled": True},
    },
    # thermorl's own momentum task: the head's std follows a schedule 0.6 -> 0.3 (held by the
    # actuator, starting at 0.6) and the noise is pink, which finds the goal where white noise
    # cannot (docs/entropy.md, "Noise shape"; white noise's 0.0 is measured in the slow test).
    "thermorl/Momentum-v0": {
        "total_timesteps": 100_000,
        "ppo": {
            "num_envs": 8, "num_steps": 128, "num_minibatches": 4, "update_epochs": 10,
            "learning_rate": 3e-4, "gamma": 0.99, "gae_lambda": 0.95,
        },
        "entropy": {
            "mode": "learned", "constraint": "equal",
            "target": {"std": {"start": 0.6, "end": 0.3, "shape": "linear"}},
            "noise": {"beta": 1.0},
        },
        "eval": {"episodes": 20},
    },
    # thermorl's own: the memory task needs a recurrent core (feed-forward PPO stays at chance,
    # 0.5). Measured: LSTM and GRU win 100 of 100 evaluation episodes at 8,192 steps (seeds
    # 1-3), tests/learning/test_recurrent_learning.py.
    "thermorl/Memory-v0": {
        "total_timesteps": 8_192,
        "ppo": {"recurrent": "lstm", "seq_len": 8, "num_envs": 8, "num_steps": 32,
                "num_minibatches": 4, "update_epochs": 4, "learning_rate": 1e-3},
        "eval": {"episodes": 100},
    },
    # MuJoCo locomotion (pip install -e ".[mujoco]"). rl-baselines3-zoo's tuned PPO sets for
    # HalfCheetah-v3 and Hopper-v3 (hyperparams/ppo.yml, "Tuned, 10 mujoco envs"), applied to the
    # v5 envs; what the two sets share is in `_zoo_mujoco_ppo`.
    "HalfCheetah-v5": _zoo_mujoco_ppo(
        num_minibatches=8, update_epochs=20, gamma=0.98, gae_lambda=0.92,
        learning_rate=2.0633e-5, clip_coef=0.1, ent_coef=0.000401762, vf_coef=0.58096,
        max_grad_norm=0.8),
    # Hopper-v5 by default: the general set at the zoo's budget, because the zoo's own Hopper set
    # (below, by name) learned far less on v5 at 1M steps (PRESET_NOTES)
    "Hopper-v5": {"total_timesteps": 1_000_000, **GENERAL_SET},
    "zoo/Hopper-v5": _zoo_mujoco_ppo(
        num_minibatches=16, update_epochs=5, gamma=0.999, gae_lambda=0.99,
        learning_rate=9.80828e-5, clip_coef=0.2, ent_coef=0.00229519, vf_coef=0.835671,
        max_grad_norm=0.7),
    # rl-baselines3-zoo's SAC set for the MuJoCo envs (hyperparams/sac.yml, "Mujoco Envs"):
    # Stable-Baselines3's SAC defaults, 1M steps, 10,000 random steps before learning.
    "sac/HalfCheetah-v5": {"total_timesteps": 1_000_000, "sac": {"learning_starts": 10_000}},
    "sac/Hopper-v5": {"total_timesteps": 1_000_000, "sac": {"learning_starts": 10_000}},
    # SAC on Pendulum-v1: Stable-Baselines3's SAC defaults (buffer 1M, batch 256, tau 0.005,
    # gamma 0.99, learning_starts 100, one gradient step per env step, target -dim) with lr 1e-3,
    # the setting benchmarks/compare.py runs beside SB3; solved (eval >= -200) by 20k steps.
    "sac/Pendulum-v1": {
        "total_timesteps": 20_000,
        "sac": {"learning_rate": 1e-3},
        "entropy": {"lr": 1e-3},
    },
    # Discrete SAC on CartPole-v1 (thermorl's own; see docs/sac.md): small networks, a gradient
    # step every fourth env step, temperature floor at the auto target (half of log 2).
    "sac/CartPole-v1": {
        "total_timesteps": 100_000,
        "sac": {"learning_rate": 1e-3, "learning_starts": 1000, "train_freq": 4,
                "buffer_size": 100_000, "batch_size": 128, "tau": 0.01},
        "policy": {"hidden_sizes": [64, 64]},
        "entropy": {"lr": 1e-3},
    },
}


# Said with the preset when a run uses it, and in docs/configuration.md: why a preset is not the
# obvious set.
PRESET_NOTES: dict[str, str] = {
    "selfplay/thermorl/Dogfight-v0": "self-play, so the duel's preset with 32 envs instead of 16 "
                                     "and the learning rate annealed, which won 51-70 of 100 "
                                     "duels against the scripted pilot over 7 seeds where 16 "
                                     "envs won 28-66 over 3 (docs/dogfight.md, Self-play)",
    "Hopper-v5": "the general set at 1M steps, not the zoo's Hopper set (--preset zoo/Hopper-v5), "
                 "which ended at 91, 766 and 1,001 over 3 seeds of 1M steps on Hopper-v5 where "
                 "general reached 2,812 to 3,543 (benchmarks/README.md, suite.py)",
}


def preset_for(name: str, env_id: str, algo: str = "ppo", selfplay: bool = False
               ) -> tuple[str | None, dict[str, Any]]:
    """The preset `name` selects for `env_id` and `algo`: (its name or None, its overrides).
    Under `auto`, a self-play run takes `selfplay/<env id>` where there is one, and a PPO run
    on an env without a preset of its own gets `general`."""
    from .errors import ConfigError

    if name == "none":
        return None, {}
    if name == "auto":
        key = env_id.split(":")[-1]
        own = f"selfplay/{key}"
        if selfplay and algo == "ppo" and own in PRESETS:
            return own, PRESETS[own]
        key = key if algo == "ppo" else f"{algo}/{key}"
        if key in PRESETS:
            return key, PRESETS[key]
        if algo != "ppo":
            return None, {}
        name = GENERAL
    if name == GENERAL:
        if algo != "ppo":
            raise ConfigError(f"preset {name!r} is for algo ppo, but algo is {algo}; accepted: "
                              f"auto, none, or a preset for {algo}")
        return name, GENERAL_SET
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}; accepted: auto, none, {GENERAL}, "
                          + ", ".join(sorted(PRESETS)))
    made_for = name.split("/")[0] if name.startswith("sac/") else "ppo"
    if made_for != algo:
        raise ConfigError(f"preset {name!r} is for algo {made_for}, but algo is {algo}; "
                          f"accepted: auto, none, or a preset for {algo}")
    return name, PRESETS[name]
