"""thermorl's built-in envs, registered with gymnasium when `thermorl` is imported."""

from __future__ import annotations

import gymnasium as gym


def register_envs() -> None:
    if "thermorl/HybridIdentity-v0" not in gym.registry:
        gym.register("thermorl/HybridIdentity-v0",
                     entry_point="thermorl.envs.identity:HybridIdentityEnv")
    if "thermorl/Momentum-v0" not in gym.registry:
        gym.register("thermorl/Momentum-v0", entry_point="thermorl.envs.momentum:MomentumEnv",
                     max_episode_steps=200)
    if "thermorl/Memory-v0" not in gym.registry:
        gym.register("thermorl/Memory-v0", entry_point="thermorl.envs.memory:MemoryEnv")
    if "thermorl/SlowCartPole-v0" not in gym.registry:
        gym.register("thermorl/SlowCartPole-v0", entry_point="thermorl.envs.slow:SlowCartPoleEnv",
                     max_episode_steps=500)
    if "thermorl/MaskObservation-v0" not in gym.registry:  # the inner env keeps its time limit
        gym.register("thermorl/MaskObservation-v0",
                     entry_point="thermorl.envs.observation:make_masked")
    try:
        from .dogfight import register_envs as register_dogfight
    except ImportError:  # the duel is optional while it is being built
        return
    register_dogfight()
