"""Self-play: the opponents a learner meets, and how strong each of them is.

**The pool** (`OpponentPool`). A learner that only ever plays its current self can chase its own
tail, forgetting how to beat what it used to be. The pool keeps frozen copies of past selves and
mixes them in, on a schedule of the learner's env steps:

- every `save_steps` steps a snapshot of the learner's weights, `snapshot-<step>`; only the
  newest `window` stay;
- every `swap_steps` steps a draw of the opponent for the steps that follow: `latest` (the
  learner's weights at that moment) with probability `latest_ratio`, otherwise a snapshot
  (weight 1 each) or the scripted opponent `scripted` (weight `scripted_weight`, 0 leaves it
  out), in proportion to their weights; with neither, `latest`.

A small window and a high latest ratio track the learner closely; a large window and a low ratio
guard against forgetting at the cost of easier games. The draw's generator is part of the pool's
`state_dict`, so a resumed run meets the same opponents.

**Elo** (`expected_score`, `elo_update`, `Ratings`). A rating difference D predicts a score of
1 / (1 + 10^(-D/400)) per game; after a game both ratings move by k times the surprise, in
opposite directions, so beating a stronger player gains more than beating a weaker one. One table
rating the snapshots, the scripted opponent and the latest learner together tells whether
self-play is making progress, which the learner's return against a moving opponent cannot.

**The two-agent adapter** (`adapter.TwoAgentVectorEnv`): N copies of a two-agent PettingZoo
parallel env as one gymnasium vector env of the learner's seat (the seats alternate per
episode), the other seat played by a frozen network (`adapter.PolicyOpponent`) or the env's
scripted pilot; only the learner's steps come out, so only they train it.

**The league** (`league.League`): a self-play run's pool, ratings and opponent, advanced once per
update by the training loop (`selfplay.enabled`), saved in its checkpoints. `duels.play_duels`
is `thermorl eval --opponent`. docs/dogfight.md, Self-play, says how to use them.
"""

from .elo import Ratings, elo_update, expected_score
from .pool import LATEST, SCRIPTED, OpponentPool, opponent_probabilities

__all__ = ["LATEST", "SCRIPTED", "OpponentPool", "Ratings", "elo_update", "expected_score",
           "opponent_probabilities"]
