from .replay import ReplayBatch, ReplayBuffer
from .rollout import Batch, RolloutBuffer
from .sequences import SeqInfo, cut_sequences, sequence_minibatches

__all__ = ["Batch", "ReplayBatch", "ReplayBuffer", "RolloutBuffer", "SeqInfo", "cut_sequences",
           "sequence_minibatches"]
