"""Named action heads as one joint distribution, with parameterized heads.

A plain `Discrete` or `Box` space is a single head named `action`. The joint log-prob is the sum
over heads (so PPO's ratio is the joint one); entropy stays per head, keyed by head name, so each
head can get its own coefficient or temperature.

Parameterized actions (P-DQN, H-PPO): a discrete *selector* head chooses an option, and option k
uses its own parameter head. The env receives every head, but only the chosen option's parameter
head is part of the action taken: the others count neither in the log-prob nor in their head's
entropy for that sample (`usage`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
    # parameter head -> (selector head, option index that uses it)
    used_when: Mapping[str, tuple[str, int]] = field(default_factory=dict)

    def usage(self, actions: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """1.0 where a parameter head's option was chosen, 0.0 elsewhere; only for the
        parameter heads (every other head is always used)."""
        return {h: (actions[sel] == k).to(torch.float32) for h, (sel, k) in self.used_when.items()}

    def log_prob(self, actions: Mapping[str, Tensor]) -> Tensor:
        return self._joint({name: dist.log_prob(actions[name])
                            for name, dist in self.heads.items()}, actions)

    def _joint(self, log_probs: Mapping[str, Tensor], actions: Mapping[str, Tensor]) -> Tensor:
        """The sum of the heads' log-probs, a parameter head's only where it was used."""
        use = self.usage(actions)
        total = None
        for name, lp in log_probs.items():
            if name in use:
                lp = lp * use[name]
            total = lp if total is None else total + lp
        assert total is not None, "a joint distribution needs at least one head"
        return total

    def entropy(self) -> dict[str, Tensor]:
        """Each head's entropy per sample (weight parameter heads by `usage` when averaging)."""
        return {name: dist.entropy() for name, dist in self.heads.items()}

    def sample(self, generator: torch.Generator | None = None,
               eps: Mapping[str, Tensor] | None = None) -> dict[str, Tensor]:
        """`eps`: standard-normal noise to use for some Gaussian heads (colored noise)."""
        eps = eps or {}
        return {name: _sample(dist, generator, eps.get(name))
                for name, dist in self.heads.items()}

    def sample_log_prob(self, generator: torch.Generator | None = None,
                        eps: Mapping[str, Tensor] | None = None
                        ) -> tuple[dict[str, Tensor], Tensor]:
        """`sample()` and `log_prob()` of the sample in one go: a head that can give its
        sample's log-prob more cheaply than `log_prob` (a plain Gaussian) does."""
        eps = eps or {}
        actions: dict[str, Tensor] = {}
        parts: dict[str, Tensor] = {}
        for name, dist in self.heads.items():
            if hasattr(dist, "sample_log_prob"):
                actions[name], parts[name] = dist.sample_log_prob(generator, eps.get(name))
            else:
                actions[name] = _sample(dist, generator, eps.get(name))
                parts[name] = dist.log_prob(actions[name])
        return actions, self._joint(parts, actions)

    def mode(self) -> dict[str, Tensor]:
        return {name: dist.mode().detach() for name, dist in self.heads.items()}


def _sample(dist: HeadDistribution, generator: torch.Generator | None,
            eps: Tensor | None) -> Tensor:
    """A head's sample, from the given noise where there is some (only Gaussians take it)."""
    return dist.sample(generator) if eps is None else dist.sample(generator, eps)  # type: ignore[call-arg]
