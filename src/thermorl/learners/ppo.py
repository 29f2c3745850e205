"""PPO's learner through autograd: a few epochs of clipped-surrogate updates over a rollout's
shuffled minibatches, with the pure losses of `thermorl.losses`.

`update` reads top to bottom and is shared with the fused learner (`ppo_fused.py`), which
replaces only how a minibatch's terms and gradient are made (`_evaluate`), how the step is taken
(`_step`), and the forward used for acting. A recurrent policy changes only where minibatches
come from (whole padded sequences, padding masked) and how the policy is called (with the
sequences' start states).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

import torch
from torch import Tensor, nn

from ..buffers import Batch, RolloutBuffer, sequence_minibatches
from ..config import PPOConfig
from ..entropy import EntropyControl
from ..envs.masks import log_valid
from ..envs.spaces import HeadSpec
from ..losses import (approx_kl, clip_fraction, clipped_surrogate, entropy_loss,
                      explained_variance, masked_mean, masked_normalize, value_loss)
from .base import Means, check_finite

LOSS_TERMS = ("loss/policy", "loss/value", "loss/entropy")
# what a minibatch's terms carry for the entropy controllers, not for the logs: the samples
# that weigh in head h's entropy, and a masked head's mean log(valid actions)
USED, MAX_ENTROPY = "used/", "max_entropy/"


@dataclass
class Evaluated:
    """One minibatch's named terms (floats, after the one host sync) before its step, the
    policy's distribution on it and each head's sample weights (for the actuators), and what
    `_step` needs to take the step."""

    terms: dict[str, float]
    dist: Any
    weights: dict[str, Tensor]
    pending: Any = field(default=None)


class PPOLearner:
    """`update(rollout, progress)`: PPO's epochs over a filled `RolloutBuffer`."""

    def __init__(self, policy: nn.Module, heads: Mapping[str, HeadSpec], cfg: PPOConfig,
                 entropy: EntropyControl, shuffle_gen: torch.Generator):
        self.policy, self.heads, self.cfg = policy, dict(heads), cfg
        self.entropy, self.shuffle_gen = entropy, shuffle_gen
        self.recurrent = cfg.recurrent != "none"
        self.optimizer = self._make_optimizer()

    def _make_optimizer(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.policy.parameters(), lr=self.cfg.learning_rate, eps=1e-5)

    # -- acting (for the collector) -------------------------------------------------------
    def act(self, obs: Tensor, masks: Mapping[str, Tensor]) -> tuple[Any, Tensor]:
        """A feed-forward policy's distribution and value for acting."""
        return self.policy(obs, masks)

    def value(self, obs: Tensor) -> Tensor:
        return self.policy.value(obs)

    # -- one update -----------------------------------------------------------------------
    def schedule(self, progress: float) -> tuple[float, float]:
        """The learning rate and clip range at `progress`, annealed linearly when configured."""
        p = self.cfg
        lr = p.learning_rate * (1.0 - progress if p.anneal_lr else 1.0)
        clip = p.clip_coef * (1.0 - progress if p.anneal_clip else 1.0)
        return lr, clip

    def update(self, rollout: RolloutBuffer, progress: float) -> dict[str, float]:
        p, heads = self.cfg, list(self.heads)
        lr, clip = self.schedule(progress)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        means = Means([*LOSS_TERMS, "diag/approx_kl", "diag/clip_fraction", "diag/grad_norm",
                       *(f"entropy/{h}" for h in heads)])
        stopped_early, epochs = False, 0
        for epochs in range(1, p.update_epochs + 1):
            batches = list(self._minibatches(rollout))
            self._prepare(batches)
            for mb in batches:
                ev = self._evaluate(mb, clip, self.entropy.coefs(progress))
                terms = ev.terms
                check_finite(terms, LOSS_TERMS)
                if p.target_kl is not None and terms["diag/approx_kl"] > p.target_kl:
                    stopped_early = True  # this minibatch moved too far: skip its step
                    break
                for h in heads:  # a head unused in this minibatch has no entropy to report
                    if terms[USED + h] <= 0:
                        terms[f"entropy/{h}"] = float("nan")
                # the controllers see this minibatch's entropy (detached) after it is used
                self.entropy.observe(
                    {h: terms[f"entropy/{h}"] for h in heads}, progress,
                    {k[len(MAX_ENTROPY):]: v for k, v in terms.items()
                     if k.startswith(MAX_ENTROPY)})
                grad_norm = self._step(ev)
                self._project()
                # the actuators put each head's entropy back on its target, so the next
                # minibatch's ratio and approx-KL see the corrected policy
                self.entropy.actuate(progress, ev.dist.heads, ev.weights)
                means.add({k: v for k, v in terms.items()
                           if not k.startswith((USED, MAX_ENTROPY))})
                means.add({"diag/grad_norm": grad_norm})
            if stopped_early:
                break
        out = means.means()
        out["diag/epochs"] = float(epochs)
        out["diag/minibatches"] = float(means.count("loss/policy"))
        out["diag/explained_variance"] = float(explained_variance(
            rollout.values.reshape(-1), rollout.returns.reshape(-1), rollout.valid.reshape(-1)))
        out["diag/learning_rate"], out["diag/clip_coef"] = lr, clip
        return out

    def _minibatches(self, rollout: RolloutBuffer) -> Iterator[Batch]:
        p = self.cfg
        if self.recurrent:
            return sequence_minibatches(rollout, p.seq_len, p.burn_in, p.num_minibatches,
                                        self.shuffle_gen)
        return rollout.minibatches(p.num_minibatches, self.shuffle_gen)

    def _prepare(self, batches: list[Batch]) -> None:
        """An epoch's minibatches, before the first is evaluated."""

    def _evaluate(self, mb: Batch, clip: float, coefs: Mapping[str, Any]) -> Evaluated:
        loss, terms, dist, weights = self._terms(mb, clip, coefs)
        with torch.no_grad():
            values = torch.stack(list(terms.values())).tolist()  # one host sync per minibatch
        return Evaluated(dict(zip(terms, values)), dist, weights, loss)

    def _step(self, ev: Evaluated) -> float:
        """Backward, clip, optimizer step; returns the gradient norm before clipping."""
        p = self.cfg
        self.optimizer.zero_grad(set_to_none=True)
        ev.pending.backward()
        grad_norm = float(torch.nn.utils.clip_grad_norm_(self.policy.parameters(),
                                                         p.max_grad_norm)
                          if p.max_grad_norm > 0 else 0.0)
        self.optimizer.step()
        return grad_norm

    def _project(self) -> None:
        self.policy.project_()

    def _terms(self, mb: Batch, clip: float, coefs: Mapping[str, Any]
               ) -> tuple[Tensor, dict[str, Tensor], Any, dict[str, Tensor]]:
        """The loss of one minibatch, its named terms, every one a masked mean over the real
        samples (`mb.mask`: not reset-only steps, not sequence padding), the policy's
        distribution and each head's sample weights in its entropy (for the actuators).
        `used/<h>` counts the samples that weigh in head h's entropy; `max_entropy/<h>` is a
        masked head's mean log(valid actions). A term added here is logged by its name."""
        p = self.cfg
        heads = list(self.heads)
        if mb.seq is None:
            dist, value = self.policy(mb.obs, mb.action_masks)
        else:
            dist, value = self.policy.forward_seq(mb.obs, mb.action_masks, mb.seq)
        log_ratio = dist.log_prob(mb.actions) - mb.log_probs
        ratio = log_ratio.exp()
        adv = masked_normalize(mb.advantages, mb.mask) if p.norm_adv else mb.advantages
        entropies = dist.entropy()
        # a parameter head's entropy counts only where its option was chosen
        usage = dist.usage(mb.actions)
        head_mask = {h: mb.mask * usage[h] if h in usage else mb.mask for h in heads}
        pg_loss = clipped_surrogate(ratio, adv, clip, mb.mask)
        v_loss = value_loss(value, mb.returns, mb.values, p.clip_vloss_coef if p.clip_vloss else None,
                            mb.mask)
        ent_loss = entropy_loss(entropies, coefs, head_mask)
        loss = pg_loss + p.vf_coef * v_loss + ent_loss
        terms = {"loss/policy": pg_loss, "loss/value": v_loss, "loss/entropy": ent_loss}
        with torch.no_grad():
            terms["diag/approx_kl"] = approx_kl(log_ratio, mb.mask)
            terms["diag/clip_fraction"] = clip_fraction(ratio, clip, mb.mask)
            n_real = mb.mask.sum()  # parameter heads count only where chosen
            for h in heads:
                terms[f"entropy/{h}"] = masked_mean(entropies[h], head_mask[h])
                terms[USED + h] = head_mask[h].sum() if h in usage else n_real
            for h in mb.action_masks:
                terms[MAX_ENTROPY + h] = masked_mean(
                    log_valid(mb.action_masks[h], self.heads[h]), head_mask[h])
        return loss, terms, dist, head_mask

    # -- checkpoints ----------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {"optimizer": self.optimizer.state_dict()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
