"""Elo ratings: how strong each player of a self-play league is, from the duels it finished.

A rating difference predicts a score: with D = r_b - r_a, player a is expected to score

    E_a = 1 / (1 + 10 ** (D / 400))

per game (1 a win, 0.5 a draw, 0 a loss), so 400 points of difference mean 10-to-1 odds. After a
game a moves by K (S_a - E_a) and b by the opposite amount: a rating only moves by surprise, and
the total over the league is conserved.
"""

from __future__ import annotations

import math
from typing import Any

SCALE = 400.0  # points of difference for 10-to-1 odds
INITIAL = 1200.0


def expected_score(r_a: float, r_b: float) -> float:
    """The score player a (rating `r_a`) is expected to make per game against b (`r_b`):
    `1 / (1 + 10 ** ((r_b - r_a) / 400))`, in (0, 1); `expected_score(b, a)` is one minus it."""
    return 1.0 / (1.0 + 10.0 ** ((r_b - r_a) / SCALE))


def elo_update(r_a: float, r_b: float, score_a: float, k: float = 16.0) -> tuple[float, float]:
    """Both ratings after one game in which a scored `score_a` (1 win, 0.5 draw, 0 loss; a
    fraction in between is the mean score of several games played at these ratings).

    `delta = k * (score_a - expected_score(r_a, r_b))`; returns `(r_a + delta, r_b - delta)`, so
    what a gains b loses. `k` bounds the change of one game: a win against an equal moves each
    by k / 2."""
    if not 0.0 <= score_a <= 1.0:  # also rejects NaN
        raise ValueError(f"score_a must be in [0, 1] (1 win, 0.5 draw, 0 loss), got {score_a!r}")
    if not (k > 0.0 and math.isfinite(k)):
        raise ValueError(f"k must be a finite number > 0, got {k!r}")
    delta = k * (score_a - expected_score(r_a, r_b))
    return r_a + delta, r_b - delta


class Ratings:
    """A rating per player name. A player not seen yet stands at `initial`; `record` applies one
    finished game to both players with `elo_update` and factor `k`.

    The order of games matters (Elo is sequential), so a league that wants the same table after
    a resume must record the same games in the same order; `state_dict` carries the ratings and
    game counts, while `initial` and `k` come from the constructor."""

    def __init__(self, initial: float = INITIAL, k: float = 16.0):
        if not math.isfinite(initial):
            raise ValueError(f"initial must be a finite rating, got {initial!r}")
        if not (k > 0.0 and math.isfinite(k)):
            raise ValueError(f"k must be a finite number > 0, got {k!r}")
        self.initial, self.k = float(initial), float(k)
        self._rating: dict[str, float] = {}
        self._games: dict[str, int] = {}

    def __contains__(self, name: str) -> bool:
        return name in self._rating

    def __len__(self) -> int:
        return len(self._rating)

    def rating(self, name: str) -> float:
        """`name`'s rating; `initial` for a player with no game recorded (it is not added)."""
        return self._rating.get(name, self.initial)

    def games(self, name: str) -> int:
        return self._games.get(name, 0)

    def enter(self, name: str, rating: float) -> None:
        """A new player joins at `rating` instead of `initial` (a self-play snapshot enters at
        the rating its learner had when it was taken). A player already rated is an error."""
        if name in self._rating:
            raise ValueError(f"{name!r} is already rated ({self._rating[name]:.1f})")
        if not math.isfinite(rating):
            raise ValueError(f"rating must be finite, got {rating!r}")
        self._rating[name], self._games[name] = float(rating), 0

    def record(self, a: str, b: str, score_a: float) -> tuple[float, float]:
        """Apply one finished game between `a` and `b` in which a scored `score_a`; returns both
        new ratings."""
        if a == b:
            raise ValueError(f"a game needs two different players, got {a!r} twice")
        r_a, r_b = elo_update(self.rating(a), self.rating(b), score_a, self.k)
        self._rating[a], self._rating[b] = r_a, r_b
        self._games[a], self._games[b] = self.games(a) + 1, self.games(b) + 1
        return r_a, r_b

    def table(self) -> list[tuple[str, float, int]]:
        """`(name, rating, games)` for every player, strongest first (ties by name)."""
        return sorted(((n, r, self._games[n]) for n, r in self._rating.items()),
                      key=lambda row: (-row[1], row[0]))

    def state_dict(self) -> dict[str, Any]:
        return {"ratings": dict(self._rating), "games": dict(self._games)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        ratings, games = state["ratings"], state["games"]
        if set(ratings) != set(games):
            raise ValueError("Ratings state: 'ratings' and 'games' name different players")
        self._rating = {str(n): float(r) for n, r in ratings.items()}
        self._games = {str(n): int(g) for n, g in games.items()}
