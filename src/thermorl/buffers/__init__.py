from .replay import ReplayBatch, ReplayBuffer
from .rollout import Batch, RolloutBuffer

__all__ = ["Batch", "ReplayBatch", "ReplayBuffer", "RolloutBuffer"]
