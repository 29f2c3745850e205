from .batch import Batch, SeqInfo
from .replay import ReplayBatch, ReplayBuffer
from .rollout import RolloutBuffer
from .sequences import cut_sequences, sequence_minibatches

__all__ = ["Batch", "ReplayBatch", "ReplayBuffer", "RolloutBuffer", "SeqInfo", "cut_sequences",
           "sequence_minibatches"]
