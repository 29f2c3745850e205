"""PPO's minibatch loss on a fused policy (`nets/fused.py`): the same terms as `PPO._terms`,
with the gradient written by hand into the policy's flat gradient.

Every logged term is a weighted mean over the minibatch with the masked mean's weights
w_i = m_i / max(sum m, 1), so the per-sample rows are stacked and reduced by one matrix-vector
product, and one host sync brings them all back, the gradient norm included. What depends only
on the minibatch (the weights, the normalized advantages, each masked head's log of valid
actions) is computed once per minibatch object: when the minibatch is the whole rollout, the
same object comes back every epoch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import torch
from torch import Tensor

from ..buffers import Batch
from ..config import PPOConfig
from ..envs.masks import log_valid
from ..envs.spaces import HeadSpec
from ..losses import masked_normalize
from ..losses.ppo_grad import clipped_surrogate_terms, value_error_terms
from ..nets.fused import FusedActorCritic


@dataclass(frozen=True)
class _Constants:
    batch: Batch
    w: Tensor            # [B] m / max(sum m, 1)
    neg_w: Tensor        # -w: the surrogate is maximized, its loss is minus it
    w_vf: Tensor         # vf_coef * w
    adv: Tensor          # [B] normalized when configured
    n_real: Tensor       # [1] max(sum m, 1)
    log_valid: list[Tensor]  # [B] per masked head


class FusedLoss:
    def __init__(self, net: FusedActorCritic, heads: Mapping[str, HeadSpec], cfg: PPOConfig):
        self.net, self.heads, self.cfg = net, dict(heads), cfg
        self._consts: dict[int, _Constants] = {}
        # the latest minibatch's distribution and sample weights, for the entropy actuators
        self.last_dist: Any = None
        self.last_weights: dict[str, Tensor] = {}

    def prepare(self, batches: list[Batch]) -> None:
        """An epoch's minibatches (of equal size) get their constants at once, as the rows of
        [minibatches, size] tensors: a few ops per epoch instead of per minibatch. A rollout
        that is one minibatch is the same object every epoch: its constants are kept."""
        if all(self._known(b) for b in batches):
            return
        m = torch.stack([b.mask for b in batches])
        n_real = m.sum(1, keepdim=True).clamp_min(1.0)
        w = m / n_real
        adv = torch.stack([b.advantages for b in batches])
        if self.cfg.norm_adv:
            adv = masked_normalize(adv, m)
        lv = [log_valid(torch.stack([b.action_masks[h] for b in batches]), spec).to(w.dtype)
              for h, spec in self.heads.items() if h in batches[0].action_masks]
        neg_w, w_vf = -w, w * self.cfg.vf_coef
        self._consts = {id(b): _Constants(b, w[i], neg_w[i], w_vf[i], adv[i], n_real[i],
                                          [x[i] for x in lv])
                        for i, b in enumerate(batches)}

    def _known(self, mb: Batch) -> bool:
        k = self._consts.get(id(mb))
        return k is not None and k.batch is mb  # an id can be reused by a later object

    def _constants(self, mb: Batch) -> _Constants:
        if not self._known(mb):
            self.prepare([mb])
        return self._consts[id(mb)]

    @torch.no_grad()
    def __call__(self, mb: Batch, clip: float, coefs: Mapping[str, Any]
                 ) -> tuple[list[float], float]:
        """Write this minibatch's gradient into `net.flat.grad`; returns the terms as
        [loss/policy, loss/value, loss/entropy, diag/approx_kl, diag/clip_fraction,
        entropy/<h>..., used/<h>..., max_entropy/<masked h>...] and the gradient's norm."""
        assert mb.seq is None, "the fused path is feed-forward only"
        k = self._constants(mb)
        heads = list(self.heads)
        fwd = self.net.forward(mb.obs, mb.action_masks)
        log_ratio = fwd.log_prob(mb.actions) - mb.log_probs
        pg = clipped_surrogate_terms(log_ratio, k.adv, clip)
        err, g_value = value_error_terms(fwd.value, mb.returns, mb.values,
                                         clip if self.cfg.clip_vloss else None)
        ents = fwd.entropies()
        self.last_dist, self.last_weights = fwd.dist, dict.fromkeys(heads, k.w)
        c = [float(coefs[h]) for h in heads]
        # d loss / d H_h = -c_h w: a positive coefficient rewards entropy
        g_ent = {h: k.w * -ch for h, ch in zip(heads, c)}
        self.net.backward(fwd, mb.actions, pg.grad_log_prob * k.neg_w, g_ent, ents,
                          g_value * k.w_vf)
        ratio_m1 = pg.ratio - 1.0
        kl = ratio_m1 - log_ratio  # the k3 estimator (rho - 1) - log rho, as `approx_kl`
        clipped = ratio_m1.abs().gt_(clip)  # as `clip_fraction`; gt_ keeps floats
        rows = torch.stack([pg.objective, err, kl, clipped, *(ents[h] for h in heads),
                            *k.log_valid])
        grad_norm = torch.linalg.vector_norm(self.net.flat.grad).reshape(1)
        raw = torch.cat([rows @ k.w, k.n_real, grad_norm]).tolist()  # the one host sync
        ent_means = raw[4:4 + len(heads)]
        ent_loss = -sum(ch * h for ch, h in zip(c, ent_means))
        terms = [-raw[0], 0.5 * raw[1], ent_loss, raw[2], raw[3], *ent_means,
                 *([raw[-2]] * len(heads)), *raw[4 + len(heads):-2]]
        return terms, raw[-1]
