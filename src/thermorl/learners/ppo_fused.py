"""PPO's learner on a fused policy (`nets/fused.py`): the same epochs and terms as
`PPOLearner`, with each minibatch's gradient written by hand into the policy's one flat
gradient and a single fused Adam step.

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
from torch import Tensor, nn

from ..buffers import Batch
from ..config import PPOConfig
from ..entropy import EntropyControl
from ..envs.masks import log_valid
from ..envs.spaces import HeadSpec
from ..losses import masked_normalize
from ..losses.ppo_grad import clipped_surrogate_terms, value_error_terms
from ..nets.fused import FusedActorCritic
from ..optim import adam_step
from .ppo import MAX_ENTROPY, USED, Evaluated, PPOLearner


@dataclass(frozen=True)
class _Constants:
    batch: Batch
    w: Tensor            # [B] m / max(sum m, 1)
    neg_w: Tensor        # -w: the surrogate is maximized, its loss is minus it
    w_vf: Tensor         # vf_coef * w
    adv: Tensor          # [B] normalized when configured
    n_real: Tensor       # [1] max(sum m, 1)
    log_valid: dict[str, Tensor]  # [B] per masked head


class FusedPPOLearner(PPOLearner):
    """PPO with hand-written gradients into one flat tensor and one fused Adam step. Its
    `_terms` (inherited) is the autograd reference the fused terms are tested against."""

    def __init__(self, policy: nn.Module, heads: Mapping[str, HeadSpec], cfg: PPOConfig,
                 entropy: EntropyControl, shuffle_gen: torch.Generator):
        self.net = FusedActorCritic(policy)
        self._consts: dict[int, _Constants] = {}
        super().__init__(policy, heads, cfg, entropy, shuffle_gen)

    def _make_optimizer(self) -> torch.optim.Optimizer:
        param = self.net.flat.param
        return torch.optim.Adam([param], lr=self.cfg.learning_rate, eps=1e-5,
                                fused=param.device.type in ("cpu", "cuda"))

    def act(self, obs: Tensor, masks: Mapping[str, Tensor]) -> tuple[Any, Tensor]:
        return self.net.act(obs, masks)

    def value(self, obs: Tensor) -> Tensor:
        return self.net.act(obs)[1]

    # -- a minibatch ----------------------------------------------------------------------
    def _prepare(self, batches: list[Batch]) -> None:
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
        lv = {h: log_valid(torch.stack([b.action_masks[h] for b in batches]), spec).to(w.dtype)
              for h, spec in self.heads.items() if h in batches[0].action_masks}
        neg_w, w_vf = -w, w * self.cfg.vf_coef
        self._consts = {id(b): _Constants(b, w[i], neg_w[i], w_vf[i], adv[i], n_real[i],
                                          {h: x[i] for h, x in lv.items()})
                        for i, b in enumerate(batches)}

    def _known(self, mb: Batch) -> bool:
        k = self._consts.get(id(mb))
        return k is not None and k.batch is mb  # an id can be reused by a later object

    def _constants(self, mb: Batch) -> _Constants:
        if not self._known(mb):
            self._prepare([mb])
        return self._consts[id(mb)]

    @torch.no_grad()
    def _evaluate(self, mb: Batch, clip: float, coefs: Mapping[str, Any]) -> Evaluated:
        """Write this minibatch's gradient into the flat gradient; its terms by name, as
        `_terms` names them, and the gradient's norm as what `_step` needs."""
        assert mb.seq is None, "the fused path is feed-forward only"
        k = self._constants(mb)
        heads = list(self.heads)
        fwd = self.net.forward(mb.obs, mb.action_masks)
        log_ratio = fwd.log_prob(mb.actions) - mb.log_probs
        pg = clipped_surrogate_terms(log_ratio, k.adv, clip)
        err, g_value = value_error_terms(fwd.value, mb.returns, mb.values,
                                         self.cfg.clip_vloss_coef if self.cfg.clip_vloss else None)
        ents = fwd.entropies()
        c = {h: float(coefs[h]) for h in heads}
        # d loss / d H_h = -c_h w: a positive coefficient rewards entropy
        g_ent = {h: k.w * -c[h] for h in heads}
        self.net.backward(fwd, mb.actions, pg.grad_log_prob * k.neg_w, g_ent, ents,
                          g_value * k.w_vf)
        ratio_m1 = pg.ratio - 1.0
        # per-sample rows, each averaged with the weights w below
        rows = {"objective": pg.objective, "error": err,
                "diag/approx_kl": ratio_m1 - log_ratio,  # k3: (rho - 1) - log rho
                "diag/clip_fraction": ratio_m1.abs().gt_(clip),  # gt_ keeps floats
                **{f"entropy/{h}": ents[h] for h in heads},
                **{MAX_ENTROPY + h: lv for h, lv in k.log_valid.items()}}
        grad_norm = torch.linalg.vector_norm(self.net.flat.grad).reshape(1)
        raw = torch.cat([torch.stack(list(rows.values())) @ k.w, k.n_real, grad_norm])
        *means, n_real, norm = raw.tolist()  # the one host sync
        r = dict(zip(rows, means))
        terms = {"loss/policy": -r.pop("objective"), "loss/value": 0.5 * r.pop("error"),
                 "loss/entropy": -sum(c[h] * r[f"entropy/{h}"] for h in heads), **r,
                 **{USED + h: n_real for h in heads}}
        return Evaluated(terms, fwd.dist, dict.fromkeys(heads, k.w), norm)

    def _step(self, ev: Evaluated) -> float:
        """clip_grad_norm_'s rule on the one flat gradient, then one fused Adam step."""
        grad_norm, max_norm = ev.pending, self.cfg.max_grad_norm
        scale = max_norm / (grad_norm + 1e-6)
        if max_norm > 0 and scale < 1.0:
            self.net.flat.grad.mul_(scale)
        adam_step(self.optimizer)
        return grad_norm

    def _project(self) -> None:
        self.net.project_()
