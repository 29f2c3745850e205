"""A self-play run's snapshots rated after the fact: a round robin of duels among chosen
snapshots (and the env's scripted pilot), rated by a Bradley-Terry fit on the Elo scale.

Why not the run's own Elo: during training a snapshot enters the table at the learner's rating
and the learner only meets its recent selves, so that table measures progress against a moving
reference and wanders once the learner stops beating its last few snapshots by much. A ladder
plays every chosen snapshot against every other one with the same duels and fits all ratings at
once, so a later snapshot rates above an earlier one only if it scores better against the same
field.

The fit: player i has strength g_i = 10 ** (r_i / 400) and scores against j with probability
g_i / (g_i + g_j), the Elo expectation (a draw counts half a win). The maximum-likelihood
strengths come from the minorize-maximize iteration of Hunter (2004),
`g_i <- W_i / sum_j n_ij / (g_i + g_j)`; `prior` virtual drawn games between every pair keep
the ratings finite when one player won every duel of a pair (0 for the plain fit).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Sequence

import numpy as np

from .. import checkpoint
from ..errors import ThermorlError
from .adapter import SCORE
from .elo import INITIAL, SCALE
from .pool import SCRIPTED


def fit_ratings(players: Sequence[str], games: Sequence[tuple[str, str, float, int]],
                anchor: str | None = None, anchor_rating: float = INITIAL,
                prior: float = 0.0, tol: float = 1e-10, max_iter: int = 100_000,
                with_errors: bool = False) -> Any:
    """Elo ratings of `players` that best explain `games`, each `(a, b, score_a, n)`: a and b
    played n games in which a scored `score_a` (wins plus half the draws; b scored
    `n - score_a`). Ratings are shifted so `anchor` (default the first player) has
    `anchor_rating`; only differences carry meaning. `prior` adds that many drawn games to every
    pair of players. Every player needs a win (or a draw) and a loss (or a draw) for a finite
    fit: with `prior` 0 and a player that won or lost everything this raises ValueError.
    With `with_errors`, returns `(ratings, errors)`: each rating's standard error against the
    anchor (from the fit's Fisher information; two errors of 35 make a difference of 70 about
    one and a half standard errors of the difference, not a sure one)."""
    index = {p: i for i, p in enumerate(players)}
    if len(index) != len(players) or len(players) < 2:
        raise ValueError(f"need at least two distinct players, got {list(players)!r}")
    if prior < 0 or not math.isfinite(prior):
        raise ValueError(f"prior must be a finite number >= 0, got {prior!r}")
    k = len(players)
    n = np.zeros((k, k))  # games between i and j
    w = np.zeros(k)       # i's total score
    for a, b, score_a, games_ab in games:
        if a not in index or b not in index or a == b:
            raise ValueError(f"game ({a!r}, {b!r}): both must be different players of "
                             f"{list(players)!r}")
        if not 0 <= score_a <= games_ab:
            raise ValueError(f"game ({a!r}, {b!r}): score {score_a} is not within 0 and "
                             f"{games_ab} games")
        i, j = index[a], index[b]
        n[i, j] += games_ab
        n[j, i] += games_ab
        w[i] += score_a
        w[j] += games_ab - score_a
    if prior > 0:
        off = prior * (1.0 - np.eye(k))
        n += off
        w += off.sum(axis=1) / 2.0
    played = n.sum(axis=1)
    bad = [players[i] for i in range(k) if w[i] <= 0 or w[i] >= played[i]]
    if bad:
        raise ValueError(f"players {bad} won all or none of their games (or played none): "
                         f"their rating is infinite; pass prior > 0 or more games")
    g = np.ones(k)
    for _ in range(max_iter):
        denom = (n / (g[:, None] + g[None, :])).sum(axis=1)
        new = w / denom
        new /= np.exp(np.mean(np.log(new)))  # fix the scale: strengths only matter as ratios
        done = np.max(np.abs(np.log(new) - np.log(g))) < tol
        g = new
        if done:
            break
    r = SCALE * np.log10(g)
    a = index[anchor if anchor is not None else players[0]]
    ratings = {p: float(r[index[p]] - r[a] + anchor_rating) for p in players}
    if not with_errors:
        return ratings
    # standard errors from the inverse Fisher information of the log-strengths, with the
    # anchor held fixed (its own error is 0: every other rating is measured against it)
    q = g[:, None] / (g[:, None] + g[None, :])
    info = -n * q * q.T
    np.fill_diagonal(info, 0.0)
    np.fill_diagonal(info, -info.sum(axis=1))
    keep = [i for i in range(k) if i != a]
    cov = np.linalg.inv(info[np.ix_(keep, keep)])
    err = np.zeros(k)
    err[keep] = np.sqrt(np.diag(cov)) * SCALE / math.log(10.0)
    return ratings, {p: float(err[index[p]]) for p in players}


def snapshot_files(run_dir: str | Path) -> list[tuple[int, Path]]:
    """`(step, path)` of every snapshot a self-play run wrote, oldest first."""
    folder = Path(run_dir) / "snapshots"
    files = sorted(folder.glob("snapshot-*.pt")) if folder.is_dir() else []
    out = []
    for f in files:
        try:
            out.append((int(f.stem.split("-", 1)[1]), f))
        except ValueError:
            continue
    if not out:
        raise ThermorlError(f"{folder} holds no snapshot-<step>.pt files: a ladder needs a "
                            f"self-play run's directory (trained with --selfplay.enabled true)")
    return sorted(out)


def choose(snapshots: Sequence[tuple[int, Path]], count: int) -> list[tuple[int, Path]]:
    """`count` snapshots spread evenly over the run (by position), the first and last included;
    all of them if there are no more than `count`."""
    if count < 2:
        raise ThermorlError(f"a ladder needs at least 2 snapshots, got --snapshots {count}")
    if len(snapshots) <= count:
        return list(snapshots)
    picks = np.unique(np.round(np.linspace(0, len(snapshots) - 1, count)).astype(int))
    return [snapshots[i] for i in picks]


@dataclass(frozen=True)
class Ladder:
    players: list[str]                             # snapshot names, then "scripted" if played
    steps: dict[str, int]                          # a snapshot's training step
    ratings: dict[str, float]                      # fitted Elo; the anchor at 1200
    errors: dict[str, float]                       # standard error against the anchor
    anchor: str
    results: list[tuple[str, str, int, int, int]]  # (a, b, a's wins, draws, a's losses)

    def score(self, a: str, b: str) -> float:
        """a's mean score over its duels with b."""
        for x, y, win, draw, loss in self.results:
            if (x, y) in ((a, b), (b, a)):
                s = (win + 0.5 * draw) / (win + draw + loss)
                return s if x == a else 1.0 - s
        raise KeyError((a, b))

    def monotonic(self) -> bool:
        """Whether every snapshot rates above the one before it."""
        r = [self.ratings[p] for p in self.players if p in self.steps]
        return all(b > a for a, b in zip(r, r[1:]))

    def to_json(self) -> dict[str, Any]:
        rows = [{"player": p, "step": self.steps.get(p), "elo": round(self.ratings[p], 1),
                 "error": round(self.errors[p], 1),
                 **({"score_vs_scripted": round(self.score(p, SCRIPTED), 3)}
                    if SCRIPTED in self.players and p != SCRIPTED else {})}
                for p in self.players]
        return {"anchor": self.anchor, "monotonic": self.monotonic(), "ratings": rows,
                "duels": [{"a": a, "b": b, "win": w, "draw": d, "loss": lo}
                          for a, b, w, d, lo in self.results]}


def play_ladder(pilot: Any, run_dir: str | Path, count: int, duels: int, seed: int,
                scripted: bool = True, deterministic: bool = True, prior: float = 0.5,
                progress: Any = None) -> Ladder:
    """Rate `count` of `run_dir`'s snapshots (see `choose`) by a round robin of `duels` duels
    per pair, seats alternating, in the two-agent version of `pilot`'s env (`pilot`: the run's
    algorithm, loaded; its weights are replaced while the ladder plays). With `scripted` and an
    env that has a scripted pilot it joins the round robin and anchors the ratings at 1200;
    otherwise the first snapshot does. Snapshots hold policy weights only, so with observation
    normalization they act through the run's final statistics (in training, opponents act
    through the live ones). `progress(done, total)` is called after each pair."""
    from .duels import play_duels

    if duels < 1:
        raise ThermorlError(f"--duels must be a positive integer, got {duels}")
    chosen = choose(snapshot_files(run_dir), count)
    weights, steps = {}, {}
    for step, path in chosen:
        name = path.stem
        weights[name], steps[name] = checkpoint.load(path)["policy"], step
    names = list(weights)
    factory = getattr(pilot, "parallel_factory", None)
    use_scripted = scripted and _has_scripted(pilot, factory)
    players = names + ([SCRIPTED] if use_scripted else [])
    other_policy = copy.deepcopy(pilot.policy).requires_grad_(False)
    other = SimpleNamespace(recurrent=False, obs_space=pilot.obs_space,
                            action_space=pilot.action_space, policy=other_policy,
                            action_layout=pilot.action_layout, obs_norm=pilot.obs_norm,
                            device=pilot.device)
    own = {k: v.detach().clone() for k, v in pilot.policy.state_dict().items()}
    pairs = [(a, b) for i, a in enumerate(players) for b in players[i + 1:]]
    results = []
    try:
        for p, (a, b) in enumerate(pairs):
            pilot.policy.load_state_dict(weights[a])
            if b == SCRIPTED:
                opp: Any = SCRIPTED
            else:
                other_policy.load_state_dict(weights[b])
                opp = other
            res = play_duels(pilot, opp, duels, deterministic, seed + 1000 * p)
            results.append((a, b, res["win"], res["draw"], res["loss"]))
            if progress is not None:
                progress(p + 1, len(pairs))
    finally:
        pilot.policy.load_state_dict(own)
    games = [(a, b, w + SCORE["draw"] * d, w + d + lo) for a, b, w, d, lo in results]
    anchor = SCRIPTED if use_scripted else names[0]
    ratings, errors = fit_ratings(players, games, anchor=anchor, prior=prior, with_errors=True)
    return Ladder(players, steps, ratings, errors, anchor, results)


def _has_scripted(pilot: Any, factory: Any) -> bool:
    from .adapter import TwoAgentVectorEnv, parallel_factory

    factory = factory or parallel_factory(pilot.env_source, pilot.config.env_kwargs)
    envs = TwoAgentVectorEnv(factory, 1, pilot.config.env_id)
    try:
        return bool(envs.has_scripted)
    finally:
        envs.close()


def plot_ladder(ladder: Ladder, out: str | Path, title: str = "") -> Path:
    """Draw each snapshot's rating against its training step (the scripted pilot, if it
    played, as a horizontal line) to the PNG `out`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    snaps = [p for p in ladder.players if p in ladder.steps]
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    ax.errorbar([ladder.steps[p] for p in snaps], [ladder.ratings[p] for p in snaps],
                yerr=[ladder.errors[p] for p in snaps], fmt="o-", capsize=3,
                label="snapshot (± one standard error)")
    if SCRIPTED in ladder.ratings:
        ax.axhline(ladder.ratings[SCRIPTED], color="grey", ls="--", label="scripted pilot")
    ax.set_xlabel("training step")
    ax.set_ylabel("Elo (fitted, round robin)")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
