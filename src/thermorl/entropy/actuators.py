"""Actuators: set a head's entropy to its target by editing the parameters that carry it.

A coefficient only scales a gradient, and Adam normalizes gradient size: a free log-std moves by
about the learning rate per optimizer step whatever the coefficient, so a coefficient cannot
promise that a target is held (docs/entropy.md, "Authority"). An actuator instead moves the
head's entropy parameters, after each optimizer step, to where the head's entropy equals the
target (`equal`), or to the target only when the entropy is below it (`min`, which so never
removes entropy):

- a Gaussian head with a free log-std: H = sum_i log sigma_i + d * 0.5 log(2 pi e) is linear in
  the log-std, so shifting every dimension by (target - H) / d is exact and needs no data (within
  the log-std bounds; the shift goes to the dimensions still inside them);
- a state-dependent log-std: the bias of its layer is shifted (inside the tanh that bounds it),
  solved on the minibatch the optimizer step used;
- a squashed Gaussian: the same shift, with the entropy of the squashed action (by quadrature),
  solved on the minibatch;
- a categorical or multi-categorical head: the output layer's weight and bias are scaled by k, a
  logit temperature 1/k folded into the parameters; the entropy of softmax(k l) falls as k grows
  (dH/dk = -k Var_p(l)), solved on the minibatch's log-probabilities.

A solve on the minibatch uses that minibatch's outputs from before the optimizer step, so the
head's entropy after the correction is off by what one optimizer step moved it; the next step's
correction takes that out. The edits are in place, so the fused path's flat parameters and its
numpy views see them; the optimizer's moments are left as they are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
from torch import Tensor, nn

from ..distributions import MultiCategorical
from ..distributions.gaussian import HALF_LOG_2PIE, _GH_NODES, _GH_WEIGHTS, \
    _log_one_minus_tanh_sq

# a solve stops within this many nats of the target; saturation is judged at 10x this
TOL = 1e-5
# one correction scales a categorical head's logits by at most this factor either way
MAX_LOGIT_SCALE = 1e3
# a state-dependent log-std's bias moves by at most this much per correction (tanh saturates)
MAX_BIAS_SHIFT = 10.0


@dataclass(frozen=True)
class Correction:
    """What one correction did: the entropy before and after (nats), and whether a bound stopped
    it short of the target."""

    before: float
    after: float
    saturated: bool


def _solve(f: Callable[[float], tuple[float, float]], target: float, lo: float, hi: float,
           increasing: bool, peaked: bool = False,
           at_zero: tuple[float, float] | None = None) -> tuple[float, float, bool]:
    """The x in [lo, hi] nearest 0 where h(x) = `target`, for `f(x) = (h(x), dh/dx)`. Newton
    steps from x = 0 (no change) toward the target until they pass it, then Newton kept inside
    the bracket, bisecting where it would leave it; a solve near its last answer takes one or two
    evaluations. `peaked`: h rises, then may fall (a squashed Gaussian's entropy in its
    log-std); the search stays on the rising side, and stops at the peak if that misses too.
    `at_zero`: f(0) if the caller has it. Returns (x, h(x), saturated: the target is out of
    reach within the bounds)."""
    sign = 1.0 if increasing else -1.0

    def g(x: float) -> tuple[float, float]:
        h, d = at_zero if x == 0.0 and at_zero is not None else f(x)
        return sign * (h - target), sign * d

    def done(x: float, gx: float) -> tuple[float, float, bool]:
        return x, target + sign * gx, abs(gx) > 10 * TOL

    x = min(max(0.0, lo), hi)
    gx, dx = g(x)
    if abs(gx) < TOL:
        return done(x, gx)
    if gx < 0:  # too little: Newton upward until past the root, the peak or the bound
        a = x if dx > 0 else lo  # already past a peak: it lies below
        for _ in range(50):
            if dx <= 0:  # no rise here: past a peak, or flat at the bounds
                if not peaked:
                    return done(x, gx)
                x, gx = _peak(g, a, x)
                if gx < 0:
                    return done(x, gx)
                b, dx = x, g(x)[1]
                break
            if x >= hi:
                return done(x, gx)
            x = min(x - gx / dx, hi)
            gx, dx = g(x)
            if abs(gx) < TOL:
                return done(x, gx)
            if gx > 0:
                b = x
                break
            if dx > 0:  # still rising: the peak, if any, lies above
                a = x
        else:
            return done(x, gx)
    else:  # too much: Newton downward until past the root or the bound
        b = x
        for _ in range(50):
            if dx <= 0 or x <= lo:  # past a peak (the root is on its rising side) or at the end
                ga = g(lo)[0]
                if ga >= 0:
                    return done(lo, ga)
                a = lo
                break
            b, x = x, max(x - gx / dx, lo)
            gx, dx = g(x)
            if abs(gx) < TOL:
                return done(x, gx)
            if gx < 0:
                a = x
                break
            b = x
        else:
            return done(x, gx)
    for _ in range(100):  # g(a) < 0 < g(b); (gx, dx) are g at x, one of the two
        step = x - gx / dx if dx > 0 else math.nan
        x = step if a < step < b else 0.5 * (a + b)
        gx, dx = g(x)
        if abs(gx) < TOL or b - a < 1e-12:
            break
        if gx < 0:
            a = x
        else:
            b = x
    return done(x, gx)


def _peak(g: Callable[[float], tuple[float, float]], a: float, b: float) -> tuple[float, float]:
    """The maximum of a unimodal g on [a, b] by golden-section search: (x, g(x))."""
    r = (math.sqrt(5) - 1) / 2
    c, d = b - r * (b - a), a + r * (b - a)
    gc, gd = g(c)[0], g(d)[0]
    for _ in range(30):
        if gc > gd:
            b, d, gd = d, c, gc
            c = b - r * (b - a)
            gc = g(c)[0]
        else:
            a, c, gc = c, d, gd
            d = a + r * (b - a)
            gd = g(d)[0]
    return (c, gc) if gc > gd else (d, gd)


def _squashed_entropy(mean: Tensor, log_std: Tensor) -> tuple[Tensor, Tensor]:
    """Per dimension, the entropy of tanh(u), u ~ N(mean, e^log_std), less log half-width:
    s + 0.5 log(2 pi e) + E_z log(1 - tanh(mu + e^s z)^2), and its derivative in s,
    1 + E_z[-2 tanh(mu + e^s z) e^s z] (z by Gauss-Hermite quadrature, as the distribution's)."""
    nodes, gw = _GH_NODES.to(mean), _GH_WEIGHTS.to(mean)
    sz = log_std.exp().unsqueeze(-1) * nodes
    u = mean.unsqueeze(-1) + sz
    jac = (_log_one_minus_tanh_sq(u) * gw).sum(-1)
    djac = (-2 * torch.tanh(u) * sz * gw).sum(-1)
    return log_std + HALF_LOG_2PIE + jac, 1 + djac


class Actuator:
    """Moves one head's entropy parameters; `needs_data` is False where the head's entropy is a
    function of its parameters alone (a plain Gaussian with a free log-std)."""

    def __init__(self, head: nn.Module, constraint: str):
        self.head, self.constraint = head, constraint
        self.state_dependent = bool(getattr(head, "state_dependent", False))
        self.gaussian = hasattr(head, "mean")
        self.squashed = self.gaussian and head.half_range is not None
        self.needs_data = not self.gaussian or self.state_dependent or self.squashed

    # -- the closed form ------------------------------------------------------------------
    @torch.no_grad()
    def correct_free(self, target: float) -> Correction:
        """A plain Gaussian head's exact shift of its free log-std, within the bounds."""
        ls = self.head.log_std.data
        d, lo, hi = ls.numel(), self.head.lo, self.head.hi
        before = float(ls.double().sum()) + d * HALF_LOG_2PIE
        if self.constraint == "min" and before >= target:
            return Correction(before, before, False)
        need = target - d * HALF_LOG_2PIE
        base = ls.double()
        delta = (need - float(base.sum())) / d
        for _ in range(d + 1):  # piecewise linear: exact once the clamped dimensions are known
            new = (base + delta).clamp(lo, hi)
            r = need - float(new.sum())
            if abs(r) < TOL:
                break
            free = int(((new < hi) if r > 0 else (new > lo)).sum())
            if free == 0:
                break
            delta += r / free
        ls.copy_((base + delta).clamp(lo, hi))
        after = float(ls.double().sum()) + d * HALF_LOG_2PIE
        return Correction(before, after, abs(after - target) > 10 * TOL)

    # -- solved on a minibatch ------------------------------------------------------------
    @torch.no_grad()
    def correct(self, target: float, dist: object | None = None,
                weights: Tensor | None = None) -> Correction | None:
        """Correct toward `target` (nats). `dist` is this head's distribution on the minibatch
        from before the optimizer step, `weights` its samples' weights (summing to 1); heads
        that need no data ignore both. None when a head that needs data got none."""
        if not self.needs_data:
            return self.correct_free(target)
        if dist is None or weights is None:
            return None
        w = weights.reshape(-1).double()
        total = float(w.sum())
        if total <= 0:
            return None
        w = w / total
        if self.gaussian:
            return self._correct_gaussian(target, dist, w)
        return self._correct_categorical(target, dist, w)

    def _correct_categorical(self, target: float, dist: object, w: Tensor) -> Correction:
        parts = dist.parts if isinstance(dist, MultiCategorical) else (dist,)
        lps = [p.log_probs.detach().double().reshape(-1, p.log_probs.shape[-1]) for p in parts]

        def f(u: float) -> tuple[float, float]:
            """H of softmax(k lp), k = e^u, and dH/du = -k^2 Var_q(lp), per sample."""
            k = math.exp(u)
            h = dh = 0.0
            for lp in lps:
                q = torch.log_softmax(lp * k, -1)
                p = q.exp()
                mean = (p * lp).sum(-1, keepdim=True)
                h += float(w @ -(p * q).sum(-1))
                dh -= k * k * float(w @ (p * (lp - mean).square()).sum(-1))
            return h, dh

        return self._apply(target, f, -math.log(MAX_LOGIT_SCALE), math.log(MAX_LOGIT_SCALE),
                           increasing=False, move=self._scale_logits)

    def _scale_logits(self, u: float) -> None:
        k = math.exp(u)
        self.head.logits.weight.data.mul_(k)
        self.head.logits.bias.data.mul_(k)

    def _correct_gaussian(self, target: float, dist: object, w: Tensor) -> Correction:
        head = self.head
        lo, hi = head.lo, head.hi
        d = dist.mean.shape[-1]
        mean = dist.mean.detach().double().reshape(-1, d)
        if self.state_dependent:
            ls = dist.log_std.detach().double().expand(*dist.mean.shape).reshape(-1, d)
            z = torch.atanh((2 * (ls - lo) / (hi - lo) - 1).clamp(-1 + 1e-12, 1 - 1e-12))

            def log_std_at(x: float) -> tuple[Tensor, Tensor]:
                """The log-std with the layer's bias shifted by x, and its derivative in x."""
                t = torch.tanh(z + x)
                return lo + 0.5 * (hi - lo) * (t + 1), 0.5 * (hi - lo) * (1 - t * t)

            x_lo, x_hi, move = -MAX_BIAS_SHIFT, MAX_BIAS_SHIFT, self._shift_bias
        else:
            free = head.log_std.data.double()

            def log_std_at(x: float) -> tuple[Tensor, Tensor]:
                s = free + x
                return s.clamp(lo, hi), ((s > lo) & (s < hi)).double()

            x_lo, x_hi = lo - float(free.max()), hi - float(free.min())
            move = self._shift_log_std
        if self.squashed:
            log_half = float(torch.log(head.half_range.double()).sum())

            def f(x: float) -> tuple[float, float]:
                s, ds = log_std_at(x)
                h, dh_ds = _squashed_entropy(mean, s.expand(mean.shape))
                return float(w @ h.sum(-1)) + log_half, float(w @ (dh_ds * ds).sum(-1))
        else:
            def f(x: float) -> tuple[float, float]:
                s, ds = log_std_at(x)
                s, ds = s.expand(mean.shape), ds.expand(mean.shape)
                return float(w @ (s + HALF_LOG_2PIE).sum(-1)), float(w @ ds.sum(-1))

        return self._apply(target, f, x_lo, x_hi, increasing=True, move=move,
                           peaked=self.squashed)

    def _shift_bias(self, x: float) -> None:
        self.head.log_std_layer.bias.data.add_(x)

    def _shift_log_std(self, x: float) -> None:
        self.head.log_std.data.add_(x).clamp_(self.head.lo, self.head.hi)

    def _apply(self, target: float, f: Callable[[float], tuple[float, float]], lo: float,
               hi: float, increasing: bool, move: Callable[[float], None],
               peaked: bool = False) -> Correction:
        """Solve f's entropy for the target (for `min`, only from below) and move the head."""
        at_zero = f(0.0)
        before = at_zero[0]
        if self.constraint == "min" and before >= target:
            return Correction(before, before, False)
        x, after, saturated = _solve(f, target, lo, hi, increasing, peaked, at_zero)
        move(x)
        return Correction(before, after, saturated)

    # -- the starting point ---------------------------------------------------------------
    @torch.no_grad()
    def start_at(self, target: float) -> None:
        """Put a Gaussian head's initial log-std where its entropy is `target`, for a mean of 0
        (a freshly built head's means are near 0); the same for every dimension."""
        head = self.head
        d = head.mean.out_features
        if self.squashed:  # the squashed entropy at mean 0, every dimension alike
            log_half = float(torch.log(head.half_range.double()).sum())
            zero = torch.zeros(1, dtype=torch.float64)

            def f(x: float) -> tuple[float, float]:
                h, dh_ds = _squashed_entropy(zero, torch.full((1,), x, dtype=torch.float64))
                return d * float(h) + log_half, d * float(dh_ds)

            log_std = _solve(f, target, head.lo, head.hi, increasing=True, peaked=True)[0]
        else:
            log_std = target / d - HALF_LOG_2PIE
        log_std = min(max(log_std, head.lo), head.hi)
        if self.state_dependent:
            u = 2 * (log_std - head.lo) / (head.hi - head.lo) - 1
            head.log_std_layer.bias.data.fill_(math.atanh(max(min(u, 0.999), -0.999)))
        else:
            head.log_std.data.fill_(log_std)

