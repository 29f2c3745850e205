"""A rollout cut into sequences for recurrent policies, served as padded minibatches.

Cuts: a sequence starts at the first step of the rollout, at every episode start, and `seq_len`
steps after the previous cut within the same episode. So a sequence never spans an episode
start, and an episode that ends inside a chunk is split there. (The reset-only step that
follows an episode's end under next-step autoreset belongs to the ending episode's last
sequence; it is masked anyway.)

A minibatch is a set of whole sequences, time-major and padded to its longest one: `[L, B]`
flattened to `[L * B]` rows (row l * B + b), which is the flat layout the pure losses take.
Padded rows repeat the sequence's last real step, so everything in them is finite and
on-distribution (a zero action can have log-prob -inf under an action mask, and inf * 0 is
NaN even in a masked mean); `mask` is 0 there, so they weigh nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import Tensor

from .batch import Batch, SeqInfo
from .rollout import RolloutBuffer


@dataclass(frozen=True)
class Cuts:
    """Sequences in env-major flat indexing (row n * T + t): start row, length, and how many
    steps of the same episode (within the rollout) come before each start."""

    start: Tensor
    length: Tensor
    before: Tensor


def cut_sequences(starts: Tensor, seq_len: int) -> Cuts:
    """Cut a rollout's [T, N] episode-start flags into sequences of at most `seq_len`."""
    T, N = starts.shape
    t = torch.arange(T, device=starts.device).unsqueeze(1).expand(T, N)
    first = starts.clone()
    first[0] = True  # the rollout's first step begins a sequence (maybe mid-episode)
    since = t - torch.cummax(torch.where(first, t, torch.zeros_like(t)), dim=0).values
    cut = since % seq_len == 0
    rows = torch.nonzero(cut.T.reshape(-1)).squeeze(1)  # env-major: one env's steps in a row
    # every env's step 0 is a cut, so the next cut after an env's last one is where the next
    # env begins, and the difference is the length
    length = torch.diff(rows, append=torch.tensor([N * T], device=rows.device))
    return Cuts(rows, length, since.T.reshape(-1)[rows])


def sequence_minibatches(buf: RolloutBuffer, seq_len: int, burn_in: int, num_minibatches: int,
                         generator: torch.Generator) -> Iterator[Batch]:
    """Shuffled minibatches of whole sequences; `num_minibatches` splits the sequences."""
    assert buf.states is not None, "sequence minibatches need a buffer with stored states"
    T, N = buf.T, buf.N
    cuts = cut_sequences(buf.starts, seq_len)

    def em(x: Tensor) -> Tensor:  # env-major rows: one env's steps in a row
        return x.transpose(0, 1).reshape(N * T, *x.shape[2:])

    obs, lp, v = em(buf.obs), em(buf.log_probs), em(buf.values)
    adv, ret, valid = em(buf.advantages), em(buf.returns), em(buf.valid)
    acts = {k: em(a) for k, a in buf.actions.items()}
    am = {k: em(m) for k, m in buf.action_masks.items()}
    states, starts = em(buf.states), em(buf.starts)
    perm = torch.randperm(len(cuts.start), generator=generator).to(obs.device)
    for sel in torch.tensor_split(perm, min(num_minibatches, len(perm))):
        start, length = cuts.start[sel], cuts.length[sel]
        L = int(length.max())
        steps = torch.arange(L, device=obs.device).unsqueeze(1)
        idx = start + torch.minimum(steps, length - 1)  # [L, B]; padding repeats the last step
        real = (steps < length).to(valid.dtype)

        def flat(x: Tensor, idx: Tensor = idx) -> Tensor:  # [L * B, ...], time-major
            return x[idx].flatten(0, 1)

        yield Batch(flat(obs), {k: flat(a) for k, a in acts.items()}, flat(lp), flat(v),
                    flat(adv), flat(ret), (valid[idx] * real).flatten(0, 1),
                    {k: flat(m) for k, m in am.items()},
                    seq_info(obs, states, starts, start, cuts.before[sel], burn_in))


def seq_info(obs: Tensor, states: Tensor, starts: Tensor, start: Tensor, before: Tensor,
             burn_in: int) -> SeqInfo:
    """Start states and burn-in steps for sequences starting at env-major rows `start`, with
    `before` steps of their episode in the rollout ahead of them. A state read at an episode
    start is zeroed here whatever was stored, so training starts episodes as collection did."""
    b = torch.clamp(before, max=burn_in)
    first = start - b  # the row the burn-in (or the sequence itself) starts from
    state = states[first] * (~starts[first]).unsqueeze(-1).to(states.dtype)
    if burn_in == 0:
        return SeqInfo(state)
    k = torch.arange(burn_in, device=obs.device).unsqueeze(1)  # [K, 1]
    active = k >= burn_in - b  # left-padded: the last b slots are real
    idx = torch.where(active, start - burn_in + k, first)
    return SeqInfo(state, obs[idx], active)
