from .rollout import Batch, RolloutBuffer

__all__ = ["Batch", "RolloutBuffer"]
