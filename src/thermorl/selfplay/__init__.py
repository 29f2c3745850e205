"""Self-play: the opponents a learner meets, and how strong each of them is.

**Elo** (`expected_score`, `elo_update`, `Ratings`). A rating difference D predicts a score of
1 / (1 + 10^(-D/400)) per game; after a game both ratings move by k times the surprise, in
opposite directions, so beating a stronger player gains more than beating a weaker one. One table
rating the snapshots, the scripted opponent and the latest learner together tells whether
self-play is making progress, which the learner's return against a moving opponent cannot.
"""

from .elo import Ratings, elo_update, expected_score

__all__ = ["Ratings", "elo_update", "expected_score"]
