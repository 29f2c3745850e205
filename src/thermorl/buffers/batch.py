"""The minibatch the learners take, from a flat rollout or cut into sequences; its own module so
`rollout.py` and `sequences.py` both import it and neither imports the other's types."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor


@dataclass(frozen=True)
class SeqInfo:
    """What the recurrent forward needs beyond the flat rows.

    `state` [B, S] is the hidden state where each sequence (or its burn-in) starts: the one
    stored in the rollout, zero at an episode start. With burn-in, `burn_obs` [K, B, obs_dim]
    holds up to K earlier steps of the sequence's episode, left-padded, `burn_active` [K, B]
    marks the real ones."""

    state: Tensor
    burn_obs: Tensor | None = None
    burn_active: Tensor | None = None


@dataclass(frozen=True)
class Batch:
    """Flat samples for one minibatch; `mask` is 1 for a real transition. A recurrent
    minibatch is B padded sequences flattened time-major (row l * B + b), its padding 0 in
    `mask`, with the sequences' start states in `seq`."""

    obs: Tensor
    actions: dict[str, Tensor]
    log_probs: Tensor
    values: Tensor
    advantages: Tensor
    returns: Tensor
    mask: Tensor
    action_masks: dict[str, Tensor]
    seq: SeqInfo | None = None
