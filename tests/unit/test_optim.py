"""`adam_step` is `torch.optim.Adam(fused=True).step()` without the Python around the kernel:
the same parameters and the same state, step for step, with the learning rate changing."""

import torch

from thermorl.optim import adam_step


def test_adam_step_equals_optimizer_step():
    gen = torch.Generator().manual_seed(0)
    a = torch.nn.Parameter(torch.randn(300, generator=gen))
    b = torch.nn.Parameter(a.detach().clone())
    opt_a = torch.optim.Adam([a], lr=1e-2, eps=1e-5, fused=True)
    opt_b = torch.optim.Adam([b], lr=1e-2, eps=1e-5, fused=True)
    for i in range(6):
        g = torch.randn(300, generator=gen)
        a.grad, b.grad = g.clone(), g.clone()
        opt_a.step()
        adam_step(opt_b)
        for opt in (opt_a, opt_b):
            opt.param_groups[0]["lr"] = 1e-2 * 0.8 ** i  # an annealed learning rate
    assert torch.equal(a, b)
    sa, sb = opt_a.state_dict()["state"][0], opt_b.state_dict()["state"][0]
    assert all(torch.equal(sa[k], sb[k]) for k in ("step", "exp_avg", "exp_avg_sq"))
    assert float(sb["step"]) == 6


def test_adam_step_falls_back_for_a_plain_optimizer():
    p = torch.nn.Parameter(torch.ones(4))
    opt = torch.optim.Adam([p], lr=0.1)  # not fused: the ordinary step
    for _ in range(2):
        p.grad = torch.ones(4)
        adam_step(opt)
    assert float(opt.state[p]["step"]) == 2 and torch.all(p < 1)
