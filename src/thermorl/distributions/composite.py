"""Named action heads as one joint distribution.

A plain `Discrete` or `Box` space is a single head named `action`. The joint log-prob is the sum
over heads (so PPO's ratio is the joint one); entropy stays per head, keyed by head name, so each
head can get its own coefficient or temperature.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Protocol

import torch
from torch import Tensor


class HeadDistribution(Protocol):
    def log_prob(self, action: Tensor) -> Tensor: ...
    def entropy(self) -> Tensor: ...
    def sample(self, generator: torch.Generator | None = None) -> Tensor: ...
    def mode(self) -> Tensor: ...


@dataclass(frozen=True)
class Joint:
    heads: Mapping[str, HeadDistribution]

    def log_prob(self, actions: Mapping[str, Tensor]) -> Tensor:
        total = None
        for name, dist in self.heads.items():
            lp = dist.log_prob(actions[name])
            total = lp if total is None else total + lp
        assert total is not None, "a joint distribution needs at least one head"
        return total

    def entropy(self) -> dict[str, Tensor]:
        return {name: dist.entropy() for name, dist in self.heads.items()}

    def sample(self, generator: torch.Generator | None = None) -> dict[str, Tensor]:
        return {name: dist.sample(generator) for name, dist in self.heads.items()}

    def mode(self) -> dict[str, Tensor]:
        return {name: dist.mode().detach() for name, dist in self.heads.items()}
