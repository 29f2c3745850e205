"""Pure loss functions: tensors in, tensors out, no hidden state.

Each takes an optional `mask` (1 for a real sample, 0 for padding or a step to ignore) and
reduces with `masked_mean`, so the recurrent path and the feed-forward path share one loss.
"""

from .diagnostics import approx_kl, clip_fraction, explained_variance
from .entropy import entropy_loss
from .gae import gae
from .masked import masked_mean, masked_normalize
from .ppo import clipped_surrogate, value_loss
from .sac import (actor_loss, critic_loss, entropy_bonus, joint_index, joint_log_probs,
                  soft_q_target, soft_value)

__all__ = ["actor_loss", "approx_kl", "clip_fraction", "clipped_surrogate", "critic_loss",
           "entropy_bonus", "entropy_loss", "explained_variance", "gae", "joint_index",
           "joint_log_probs", "masked_mean", "masked_normalize", "soft_q_target", "soft_value",
           "value_loss"]
