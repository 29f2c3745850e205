"""Means and normalization over the real entries of a batch."""

from __future__ import annotations

from torch import Tensor


def masked_mean(x: Tensor, mask: Tensor | None = None) -> Tensor:
    """Mean of `x` over entries where `mask` is nonzero (plain mean when mask is None).

    A batch with no real entry gives 0, not NaN, so an all-padding minibatch adds nothing.
    """
    if mask is None:
        return x.mean()
    assert mask.shape == x.shape, f"mask {tuple(mask.shape)} vs values {tuple(x.shape)}"
    m = mask.to(x.dtype)
    return (x * m).sum() / m.sum().clamp_min(1.0)


def masked_normalize(x: Tensor, mask: Tensor | None = None, eps: float = 1e-8) -> Tensor:
    """(x - mean) / (std + eps) with mean and (unbiased) std over the real entries, along the
    last dimension: a [k, n] input is k rows normalized each on its own (an epoch's
    minibatches at once)."""
    if mask is None:
        n = x.shape[-1]
        mean = x.mean(-1, keepdim=True)
        var = (x - mean).square().sum(-1, keepdim=True) / max(n - 1, 1)
    else:
        assert mask.shape == x.shape, f"mask {tuple(mask.shape)} vs values {tuple(x.shape)}"
        m = mask.to(x.dtype)
        n_real = m.sum(-1, keepdim=True)
        mean = (x * m).sum(-1, keepdim=True) / n_real.clamp_min(1.0)
        var = ((x - mean).square() * m).sum(-1, keepdim=True) / (n_real - 1).clamp_min(1.0)
    return (x - mean) / (var.sqrt() + eps)
