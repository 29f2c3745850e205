"""`ActorCritic`'s forward and backward written out by hand, for speed on small MLPs.

On a CPU, PPO with two 64x64 MLPs spends most of an update in per-op overhead: autograd's
graph, per-layer optimizer calls, module dispatch. Here the actor's and the critic's layer k
are one [2, out, in] weight (`FlatParams` puts them side by side), so a hidden layer is one
batched matmul forward and two backward; every head's output layer is one matmul; gradients are
written straight into one flat tensor that a fused Adam steps in one call.

The distributions are the same `Categorical` / `DiagGaussian` objects the autograd path builds,
so log-probs, entropies, sampling and modes are the same code. The backward uses their
closed-form derivatives:

- categorical: d log p(a) / d logits = onehot(a) - p;  dH / d logits = -p (log p + H)
- Gaussian, z = (a - mu) / sigma: d log p / d mu = z / sigma;  d log p / d log sigma = z^2 - 1;
  dH / d log sigma = 1 per dimension

`unsupported(policy)` says why a policy cannot take this path (recurrent, squashed, state-
dependent std, parameterized heads, another activation); such policies use autograd.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import torch
from torch import Tensor, nn

from ..distributions import Categorical, DiagGaussian, Joint, MultiCategorical
from ..distributions.gaussian import HALF_LOG_2PI
from .actor_critic import ActorCritic
from .flat import FlatParams
from .heads import CategoricalHead, GaussianHead

FUSED_ACTIVATIONS = ("tanh", "relu")


def unsupported(policy: nn.Module) -> str | None:
    """None if `policy` can use the fused path, else the reason it cannot."""
    if type(policy) is not ActorCritic:
        return f"{type(policy).__name__} (only the feed-forward ActorCritic is fused)"
    if policy.used_when:
        return "parameterized action heads"
    if policy.image is not None:
        return "an image encoder (convolutions)"
    acts = {type(m) for m in policy.actor_body if not isinstance(m, nn.Linear)}
    names = {cls.__name__.lower() for cls in acts}
    if not names <= set(FUSED_ACTIVATIONS):
        return f"activation {', '.join(sorted(names))} (fused: {', '.join(FUSED_ACTIVATIONS)})"
    if not any(isinstance(m, nn.Linear) for m in policy.actor_body):
        return "no hidden layers"
    for name, head in policy.heads.items():
        if isinstance(head, GaussianHead) and head.state_dependent:
            return f"head {name!r} has a state-dependent std"
        if isinstance(head, GaussianHead) and head.half_range is not None:
            return f"head {name!r} is squashed"
        if not isinstance(head, (CategoricalHead, GaussianHead)):
            return f"head {name!r} is a {type(head).__name__}"
    return None


def _activate_(z: Tensor, kind: str, use_numpy: bool) -> Tensor:
    """The activation in place. numpy's float32 tanh is several times faster than torch's on
    CPU, and writes into the same memory."""
    if kind == "relu":
        return z.clamp_min_(0.0)
    if use_numpy and z.device.type == "cpu" and z.dtype == torch.float32:
        a = z.numpy()
        np.tanh(a, out=a)
        return z
    return z.tanh_()


def _activation_grad(g: Tensor, h: Tensor, kind: str) -> Tensor:
    """dL/dz from dL/dh and the activation's output h: tanh' = 1 - h^2, relu' = [h > 0]."""
    if kind == "relu":
        return g.masked_fill(h <= 0, 0.0)
    return torch.addcmul(g, g, h * h, value=-1.0)


@dataclass
class Forward:
    """What one forward pass keeps for the backward."""

    obs: Tensor
    hidden: list[Tensor]  # [2, B, width] per layer: actor at 0, critic at 1
    dist: Joint
    value: Tensor  # [B]
    probs: dict[str, Tensor] = field(default_factory=dict)  # categorical heads, once computed
    # Gaussian heads: z = (a - mu) / sigma and 1 / sigma, once log_prob has computed them
    gauss: dict[str, tuple[Tensor, Tensor]] = field(default_factory=dict)

    def log_prob(self, actions: Mapping[str, Tensor]) -> Tensor:
        """The joint log-prob, as `dist.log_prob(actions)`; keeps each Gaussian head's z and
        1 / sigma, which its backward needs too."""
        total = None
        for name, d in self.dist.heads.items():
            if isinstance(d, DiagGaussian):
                inv_std = torch.exp(-d.log_std)
                z = (actions[name] - d.mean) * inv_std
                self.gauss[name] = (z, inv_std)
                const = d.log_std.sum() + d.mean.shape[-1] * HALF_LOG_2PI
                lp = (z * z).sum(-1).mul_(-0.5).sub_(const)
            else:
                lp = d.log_prob(actions[name])
            total = lp if total is None else total + lp
        assert total is not None
        return total

    def entropies(self) -> dict[str, Tensor]:
        """Each head's entropy per sample, as `dist.entropy()`; keeps a categorical head's
        probabilities, which its backward needs too."""
        out = {}
        for name, d in self.dist.heads.items():
            if isinstance(d, Categorical):
                p = self.probs[name] = d.log_probs.exp()
                out[name] = (p * d.log_probs).sum(-1).neg_()
            else:
                out[name] = d.entropy()
        return out


class FusedActorCritic:
    def __init__(self, policy: ActorCritic):
        reason = unsupported(policy)
        assert reason is None, f"not fusable: {reason}"
        self.policy = policy
        act_lin = [m for m in policy.actor_body if isinstance(m, nn.Linear)]
        crit_all = [m for m in policy.critic if isinstance(m, nn.Linear)]
        crit_lin, crit_out = crit_all[:-1], crit_all[-1]
        acts = [m for m in policy.actor_body if not isinstance(m, nn.Linear)]
        self.activation = type(acts[0]).__name__.lower()
        self.heads = dict(policy.heads.items())
        out_layers = [h.logits if isinstance(h, CategoricalHead) else h.mean
                      for h in self.heads.values()]
        log_stds = [h.log_std for h in self.heads.values() if isinstance(h, GaussianHead)]
        order: list[nn.Parameter] = []
        for a, c in zip(act_lin, crit_lin):
            order += [a.weight, c.weight, a.bias, c.bias]
        order += [m.weight for m in out_layers] + [m.bias for m in out_layers]
        order += [crit_out.weight, crit_out.bias, *log_stds]
        rest = [p for p in policy.parameters() if all(p is not q for q in order)]
        assert not rest, f"{len(rest)} parameters outside the fused layout"
        self.flat = flat = FlatParams(order)

        def both(attr: str, layer: int) -> tuple[Tensor, Tensor]:
            a, c = getattr(act_lin[layer], attr), getattr(crit_lin[layer], attr)
            shape = (2, *a.shape)
            return flat.view(a, c, shape=shape), flat.view(a, c, shape=shape, grad=True)

        self.layers = [(*both("weight", i), *both("bias", i)) for i in range(len(act_lin))]
        n_out = sum(m.out_features for m in out_layers)
        width = act_lin[-1].out_features
        ws, bs = [m.weight for m in out_layers], [m.bias for m in out_layers]
        self.head_w = flat.view(*ws, shape=(n_out, width))
        self.head_gw = flat.view(*ws, shape=(n_out, width), grad=True)
        self.head_b, self.head_gb = flat.view(*bs), flat.view(*bs, grad=True)
        self.head_sizes = [m.out_features for m in out_layers]
        ends = np.cumsum(self.head_sizes).tolist()
        # each head's columns of the output layer (slicing: torch's split() costs 8 us a call)
        self.head_cols = [slice(e - n, e) for e, n in zip(ends, self.head_sizes)]
        self.value_w = flat.view(crit_out.weight, shape=(1, width))
        self.value_b = flat.view(crit_out.bias)
        self.value_gw, self.value_gb = crit_out.weight.grad, crit_out.bias.grad
        # the forward's transposed and broadcast views, made once: a view costs a dispatcher
        # call too, and these stay current because every write to the parameters is in place
        self._fwd = [(w.transpose(1, 2), b.unsqueeze(1)) for w, _, b, _ in self.layers]
        self._head_wt, self._value_wt = self.head_w.t(), self.value_w.t()
        self._value_row = self.value_w[0]
        self.log_std_heads = [h for h in self.heads.values() if isinstance(h, GaussianHead)]
        # numpy views of the same memory, for acting on CPU (see `act`); always current, as the
        # optimizer and load_state_dict write the flat parameters in place
        self._np = None  # None: torch only (off CPU; tests set it to run that path on CPU)
        if flat.param.device.type == "cpu" and flat.param.dtype == torch.float32:
            self._np = ([(w.numpy().transpose(0, 2, 1), b.numpy()[:, None, :])
                         for w, _, b, _ in self.layers],
                        self.head_w.numpy().T, self.head_b.numpy(),
                        self.value_w.numpy().T, self.value_b.numpy())

    # -- forward --------------------------------------------------------------------------
    def forward(self, obs: Tensor, masks: Mapping[str, Tensor] | None = None) -> Forward:
        """Both networks on `obs` [B, obs_dim], keeping what the backward needs; call under
        no_grad or inference_mode."""
        masks = masks or {}
        x = obs.expand(2, *obs.shape)
        hidden = []
        for wt, b in self._fwd:
            x = _activate_(torch.baddbmm(b, x, wt), self.activation, self._np is not None)
            hidden.append(x)
        out = torch.addmm(self.head_b, x[0], self._head_wt)
        value = torch.addmm(self.value_b, x[1], self._value_wt).squeeze(-1)
        return Forward(obs, hidden, self._dists(out, masks), value)

    def act(self, obs: Tensor, masks: Mapping[str, Tensor] | None = None
            ) -> tuple[Joint, Tensor]:
        """Distributions and values for acting, with nothing kept for a backward. On CPU the
        MLPs run in numpy: at rollout batch sizes a numpy call costs a third of a torch op,
        and the env step between two calls leaves torch's dispatch path cold."""
        if self._np is None or obs.device.type != "cpu" or obs.dtype != torch.float32:
            fwd = self.forward(obs, masks)
            return fwd.dist, fwd.value
        layers, head_wt, head_b, value_wt, value_b = self._np
        x = obs.numpy()
        for wt, b in layers:
            x = np.matmul(x, wt)
            x += b
            if self.activation == "relu":
                np.maximum(x, 0.0, out=x)
            else:
                np.tanh(x, out=x)
        out = x[0] @ head_wt
        out += head_b
        value = x[1] @ value_wt
        value += value_b
        return self._dists(torch.from_numpy(out), masks or {}), torch.from_numpy(value[:, 0])

    def _dists(self, out: Tensor, masks: Mapping[str, Tensor]) -> Joint:
        """Each head's distribution from its columns of the output layer."""
        single = len(self.heads) == 1
        dists: dict[str, Any] = {}
        for (name, head), cols in zip(self.heads.items(), self.head_cols):
            o = out if single else out[:, cols]
            dists[name] = (head.distribution(o) if isinstance(head, GaussianHead)
                           else head.distribution(o, masks.get(name)))
        return Joint(dists)

    # -- backward -------------------------------------------------------------------------
    def backward(self, fwd: Forward, actions: Mapping[str, Tensor], grad_log_prob: Tensor,
                 grad_entropy: Mapping[str, Tensor], entropies: Mapping[str, Tensor],
                 grad_value: Tensor) -> None:
        """Write dL/dparams into `flat.grad` (overwriting it), for a loss whose derivatives are
        `grad_log_prob` [B] (w.r.t. the joint log-prob), `grad_entropy[h]` [B] (w.r.t. head h's
        entropy, whose forward values are `entropies[h]`) and `grad_value` [B]. Call
        `fwd.log_prob(actions)` first: a Gaussian head's backward reuses what it kept."""
        B = grad_value.shape[0]
        assert grad_log_prob.shape == (B,), f"grad_log_prob {tuple(grad_log_prob.shape)}"
        g_out = torch.empty(B, sum(self.head_sizes), dtype=grad_value.dtype,
                            device=grad_value.device)
        for (name, head), cols in zip(self.heads.items(), self.head_cols):
            g, dist = g_out[:, cols], fwd.dist.heads[name]
            if isinstance(head, GaussianHead):
                self._gaussian_grad(head, fwd.gauss[name], grad_log_prob, grad_entropy[name], g)
            elif isinstance(dist, MultiCategorical):
                parts = g.split(list(head.spec.nvec), dim=-1)
                for i, (part, gp) in enumerate(zip(dist.parts, parts)):
                    _categorical_grad(part, actions[name][:, i], grad_log_prob,
                                      grad_entropy[name], part.entropy(), gp)
            else:
                _categorical_grad(dist, actions[name], grad_log_prob, grad_entropy[name],
                                  entropies[name], g, fwd.probs.get(name))
        actor_h, critic_h = fwd.hidden[-1][0], fwd.hidden[-1][1]
        torch.mm(g_out.t(), actor_h, out=self.head_gw)
        torch.sum(g_out, 0, out=self.head_gb)
        torch.mm(grad_value.unsqueeze(0), critic_h, out=self.value_gw)
        torch.sum(grad_value, 0, keepdim=True, out=self.value_gb)
        gh = torch.empty_like(fwd.hidden[-1])
        torch.mm(g_out, self.head_w, out=gh[0])
        torch.outer(grad_value, self._value_row, out=gh[1])
        for i in range(len(self.layers) - 1, -1, -1):
            w, gw, _, gb = self.layers[i]
            gz = _activation_grad(gh, fwd.hidden[i], self.activation)
            if i > 0:
                torch.bmm(gz.transpose(1, 2), fwd.hidden[i - 1], out=gw)
            elif self._np is not None and fwd.obs.dtype == torch.float32:
                # OpenBLAS takes this narrow product in a third of MKL's time
                np.matmul(gz.numpy().transpose(0, 2, 1), fwd.obs.numpy(), out=gw.numpy())
            else:  # x^T gz, then transposed: as gz^T x, MKL is 3x slower with x this narrow
                gw.copy_(torch.matmul(fwd.obs.t(), gz).transpose(1, 2))
            torch.sum(gz, 1, out=gb)
            if i > 0:
                gh = torch.bmm(gz, w)

    def project_(self) -> None:
        """The policy's `project_()` (log-stds back into their bounds), minus the module walk
        and the no_grad context (`.data` is outside autograd)."""
        for head in self.log_std_heads:
            head.log_std.data.clamp_(head.lo, head.hi)

    @staticmethod
    def _gaussian_grad(head: GaussianHead, z_inv_std: tuple[Tensor, Tensor], g_lp: Tensor,
                       g_ent: Tensor, out: Tensor) -> None:
        z, inv_std = z_inv_std
        g = g_lp.unsqueeze(-1)
        torch.mul(g * z, inv_std, out=out)
        head.log_std.grad.copy_((g * (z * z - 1.0)).sum(0) + g_ent.sum())


def _categorical_grad(dist: Categorical, action: Tensor, g_lp: Tensor, g_ent: Tensor,
                      entropy: Tensor, out: Tensor, probs: Tensor | None = None) -> None:
    """dL/dlogits = g_lp (onehot(a) - p) - g_ent p (log p + H), into `out` [B, n]. Masked
    actions get 0: p underflows to 0 there and the onehot never points at them."""
    lp = dist.log_probs
    p = lp.exp() if probs is None else probs
    g1 = g_lp.unsqueeze(-1)
    coef = torch.addcmul(g1, g_ent.unsqueeze(-1), lp + entropy.unsqueeze(-1))
    torch.mul(p, coef, out=out).neg_()
    out.scatter_add_(-1, action.long().unsqueeze(-1), g1)
