"""Networks: MLP bodies, action heads per space, and the actor-critic that joins them."""

from .actor_critic import ActorCritic
from .mlp import mlp

__all__ = ["ActorCritic", "mlp"]
