"""The entropy term of the policy loss, per head."""

from __future__ import annotations

from typing import Mapping

from torch import Tensor

from .masked import masked_mean


def entropy_loss(entropies: Mapping[str, Tensor], coefs: Mapping[str, float | Tensor],
                 mask: Tensor | Mapping[str, Tensor] | None = None) -> Tensor:
    """-sum over heads h of c_h * E[H_h(s)].

    The coefficients are data, never trained through this loss (a learned coefficient has its
    own update), so tensors are detached here. A negative c_h penalizes entropy. `mask` may be
    one mask for every head or one per head (a parameterized head counts only where used).
    """
    missing = set(entropies) - set(coefs)
    assert not missing, f"no entropy coefficient for heads {sorted(missing)}"
    total: Tensor | float = 0.0
    for name, h in entropies.items():
        c = coefs[name]
        c = c.detach() if isinstance(c, Tensor) else c
        m = mask.get(name) if isinstance(mask, Mapping) else mask
        total = total - c * masked_mean(h, m)
    assert isinstance(total, Tensor), "entropy_loss needs at least one head"
    return total
