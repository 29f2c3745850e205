"""Networks: MLP bodies, action heads per space, and the actor-critics that join them."""

from .actor_critic import ActorCritic
from .mlp import mlp
from .recurrent import RecurrentActorCritic, RecurrentCore

__all__ = ["ActorCritic", "RecurrentActorCritic", "RecurrentCore", "mlp"]
