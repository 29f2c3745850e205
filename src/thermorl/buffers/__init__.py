from .rollout import Batch, RolloutBuffer
from .sequences import SeqInfo, cut_sequences, sequence_minibatches

__all__ = ["Batch", "RolloutBuffer", "SeqInfo", "cut_sequences", "sequence_minibatches"]
