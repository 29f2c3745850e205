"""A module's parameters re-homed as views of one flat tensor, their gradients of another.

One flat tensor means one fused optimizer step, one gradient norm and one clip, however many
layers the policy has. The order of the parameters is the caller's: placing the actor's and the
critic's layer k next to each other lets a hand-written forward read both as one [2, out, in]
weight and run them as a single batched matmul.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor, nn


class FlatParams:
    """`param`: an `nn.Parameter` over all of `params` (give it to the optimizer); `grad`: its
    gradient, which the caller writes (each original parameter's `.grad` is a view of it).

    The original parameters keep working as before, `state_dict()` and `load_state_dict()`
    included, because only their storage moved. Call `view(*params)` for the flat slice that
    holds consecutive parameters."""

    def __init__(self, params: Sequence[nn.Parameter]):
        assert len({id(p) for p in params}) == len(params), "a parameter is listed twice"
        first = params[0]
        n = sum(p.numel() for p in params)
        data = torch.empty(n, dtype=first.dtype, device=first.device)
        self.grad = torch.zeros_like(data)
        self._offsets: dict[int, tuple[int, int]] = {}
        off = 0
        with torch.no_grad():
            for p in params:
                k = p.numel()
                data[off:off + k].copy_(p.reshape(-1))
                p.data = data[off:off + k].view_as(p)
                p.grad = self.grad[off:off + k].view_as(p)
                self._offsets[id(p)] = (off, k)
                off += k
        self.param = nn.Parameter(data)
        self.param.grad = self.grad

    def _span(self, params: Sequence[Tensor]) -> tuple[int, int]:
        start, _ = self._offsets[id(params[0])]
        end = start
        for p in params:
            off, k = self._offsets[id(p)]
            assert off == end, "view() needs parameters that lie next to each other"
            end = off + k
        return start, end

    def view(self, *params: Tensor, shape: tuple[int, ...] | None = None,
             grad: bool = False) -> Tensor:
        """The flat slice (of the parameters, or with `grad` of their gradients) holding
        `params` in order, reshaped to `shape` if given."""
        start, end = self._span(params)
        flat = (self.grad if grad else self.param.data)[start:end]
        return flat.view(shape) if shape is not None else flat
