"""Pure loss functions: tensors in, tensors out, no hidden state.

Each takes an optional `mask` (1 for a real sample, 0 for padding or a step to ignore) and
reduces with `masked_mean`, so the recurrent path and the feed-forward path share one loss.
"""

from .diagnostics import approx_kl, clip_fraction, explained_variance
from .entropy import entropy_loss
from .gae import gae
from .masked import masked_mean, masked_normalize
from .ppo import clipped_surrogate, value_loss

__all__ = ["approx_kl", "clip_fraction", "clipped_surrogate", "entropy_loss",
           "explained_variance", "gae", "masked_mean", "masked_normalize", "value_loss"]
