"""Collection: one collector steps a vector env under a policy for PPO, SAC and evaluation."""

from .collector import RECENT_EPISODES, Act, Collector, Episodes, EnvStep, Record

__all__ = ["RECENT_EPISODES", "Act", "Collector", "EnvStep", "Episodes", "Record"]
