"""Small immutable action distributions, built fresh on every forward pass.

Log-prob and entropy are closed forms over plain tensors (no `torch.distributions` objects in
hot loops). Every distribution reduces over its own event dimensions, so a head's entropy is
the sum over its dimensions, and `Joint` sums log-probs over named heads.
"""

from .categorical import Categorical, MultiCategorical
from .composite import Joint
from .gaussian import DiagGaussian, SquashedGaussian

__all__ = ["Categorical", "DiagGaussian", "Joint", "MultiCategorical", "SquashedGaussian"]
