"""Learners: one per algorithm, each `update(batch, progress) -> dict` of named metrics, owning
its optimizer step, gradient clipping and projections."""

from .base import Learner, Means
from .ppo import PPOLearner
from .ppo_fused import FusedPPOLearner
from .sac import SACLearner

__all__ = ["FusedPPOLearner", "Learner", "Means", "PPOLearner", "SACLearner"]
