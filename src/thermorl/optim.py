"""One Adam step over a single flat parameter, without `Optimizer.step()`'s Python overhead.

`torch.optim.Adam(fused=True).step()` spends about 100 us in Python bookkeeping (grouping
tensors by device and dtype, hooks, profiler scopes) around a 10 us kernel when there is one
parameter of ten thousand floats, as in the fused PPO path. This calls the same kernel on the
optimizer's own state, so `optimizer.state_dict()` and checkpoints are unchanged.
"""

from __future__ import annotations

import torch


def adam_step(optimizer: torch.optim.Adam) -> None:
    """`optimizer.step()` for an Adam with one group of one parameter; the same update."""
    group = optimizer.param_groups[0]
    (param,) = group["params"]
    state = optimizer.state.get(param)
    fused = getattr(torch, "_fused_adam_", None)
    if (not state or fused is None or not group.get("fused") or group["amsgrad"]
            or group["maximize"] or isinstance(group["lr"], torch.Tensor)):
        optimizer.step()  # the first step creates the state; odd settings take the slow road
        return
    step = state["step"]
    step += 1
    beta1, beta2 = group["betas"]
    fused([param], [param.grad], [state["exp_avg"]], [state["exp_avg_sq"]], [], [step],
          amsgrad=False, lr=group["lr"], beta1=beta1, beta2=beta2,
          weight_decay=group["weight_decay"], eps=group["eps"], maximize=False,
          grad_scale=None, found_inf=None)
