from .ppo import PPO
from .sac import SAC

__all__ = ["PPO", "SAC"]
