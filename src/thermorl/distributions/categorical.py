"""Categorical over n actions, with an optional mask of valid actions."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

# Finite rather than -inf: 0 * -inf is NaN in the entropy and in its gradient.
MASKED_LOGIT = -1e9


@dataclass(frozen=True)
class Categorical:
    """`log_probs`: [..., n] normalized log-probabilities (masked actions at ~-1e9)."""

    log_probs: Tensor

    @staticmethod
    def from_logits(logits: Tensor, mask: Tensor | None = None) -> "Categorical":
        """`mask`: bool [..., n], True where an action is valid."""
        if mask is not None:
            if mask.shape != logits.shape:
                raise ValueError(f"action mask has shape {tuple(mask.shape)}, "
                                 f"logits have {tuple(logits.shape)}")
            logits = logits.masked_fill(~mask, MASKED_LOGIT)
        return Categorical(torch.log_softmax(logits, dim=-1))

    @property
    def probs(self) -> Tensor:
        return self.log_probs.exp()

    def log_prob(self, action: Tensor) -> Tensor:
        """[...] integer actions -> [...] log pi(a)."""
        return self.log_probs.gather(-1, action.long().unsqueeze(-1)).squeeze(-1)

    def entropy(self) -> Tensor:
        """-sum_a p(a) log p(a); masked actions contribute exactly 0 (p underflows to 0)."""
        return -(self.probs * self.log_probs).sum(-1)

    def sample(self, generator: torch.Generator | None = None) -> Tensor:
        """argmax_a p(a) / E_a with E_a ~ Exp(1) picks a with probability p(a). This is what
        `torch.multinomial` does for one sample, draw for draw, without its argument checks
        (a third of a rollout step's sampling time)."""
        p = self.probs.detach()
        return (p / torch.empty_like(p).exponential_(generator=generator)).argmax(-1)

    def mode(self) -> Tensor:
        return self.log_probs.argmax(-1)


@dataclass(frozen=True)
class MultiCategorical:
    """Independent categoricals (MultiDiscrete, MultiBinary): log-prob and entropy are sums over
    the dimensions, so the head's entropy is the sum of its parts'."""

    parts: tuple[Categorical, ...]

    @staticmethod
    def from_logits(logits: Tensor, nvec: tuple[int, ...],
                    mask: Tensor | None = None) -> "MultiCategorical":
        """`logits`, `mask`: [..., sum(nvec)], the dimensions' blocks side by side."""
        if mask is not None and mask.shape != logits.shape:
            raise ValueError(f"action mask has shape {tuple(mask.shape)}, logits have "
                             f"{tuple(logits.shape)}")
        chunks = logits.split(list(nvec), dim=-1)
        masks = mask.split(list(nvec), dim=-1) if mask is not None else (None,) * len(nvec)
        return MultiCategorical(tuple(Categorical.from_logits(c, m)
                                      for c, m in zip(chunks, masks)))

    def log_prob(self, action: Tensor) -> Tensor:
        """[..., k] integer actions -> [...]."""
        return sum(p.log_prob(action[..., i]) for i, p in enumerate(self.parts))  # type: ignore[return-value]

    def entropy(self) -> Tensor:
        return sum(p.entropy() for p in self.parts)  # type: ignore[return-value]

    def sample(self, generator: torch.Generator | None = None) -> Tensor:
        return torch.stack([p.sample(generator) for p in self.parts], dim=-1)

    def mode(self) -> Tensor:
        return torch.stack([p.mode() for p in self.parts], dim=-1)
