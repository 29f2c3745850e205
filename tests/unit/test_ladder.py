"""The ladder's rating fit (Bradley-Terry on the Elo scale) against hand-computed values, and
how it picks snapshots."""

import math

import pytest

from thermorl.errors import ThermorlError
from thermorl.selfplay.ladder import choose, fit_ratings


def test_two_players_rate_by_the_odds_of_their_score():
    # a scored 3 of 4 against b: odds 3 to 1, so a - b = 400 log10(3) = 190.85
    r = fit_ratings(["a", "b"], [("a", "b", 3.0, 4)])
    assert r["a"] == 1200.0
    assert r["a"] - r["b"] == pytest.approx(400 * math.log10(3), abs=1e-6)
    # the anchor moves the table, not the differences
    r = fit_ratings(["a", "b"], [("a", "b", 3.0, 4)], anchor="b", anchor_rating=1000.0)
    assert r["b"] == 1000.0 and r["a"] == pytest.approx(1000 + 190.849, abs=1e-3)


def test_three_players_consistent_odds_are_recovered_exactly():
    # odds a:b 3, b:c 3 and a:c 9 fit one strength each: 3^2 = 9
    games = [("a", "b", 3.0, 4), ("b", "c", 30.0, 40), ("c", "a", 1.0, 10)]
    r = fit_ratings(["a", "b", "c"], games)
    step = 400 * math.log10(3)
    assert r["a"] - r["b"] == pytest.approx(step, abs=1e-6)
    assert r["b"] - r["c"] == pytest.approx(step, abs=1e-6)


def test_draws_count_half_and_a_prior_keeps_a_clean_sweep_finite():
    # 2 wins and 2 draws of 4 = score 3 of 4, the same as 3 wins and a loss
    assert fit_ratings(["a", "b"], [("a", "b", 2 + 0.5 * 2, 4)])["b"] == pytest.approx(
        1200 - 400 * math.log10(3), abs=1e-6)
    with pytest.raises(ValueError, match=r"won all or none.*prior > 0"):
        fit_ratings(["a", "b"], [("a", "b", 4.0, 4)])
    # a prior of 0.5 drawn games: a scores 4.25 of 4.5, odds 17 to 1
    r = fit_ratings(["a", "b"], [("a", "b", 4.0, 4)], prior=0.5)
    assert r["a"] - r["b"] == pytest.approx(400 * math.log10(17), abs=1e-6)


@pytest.mark.parametrize("players,games,message", [
    (["a"], [], "at least two distinct players"),
    (["a", "a"], [], "at least two distinct players"),
    (["a", "b"], [("a", "c", 1.0, 2)], "both must be different players"),
    (["a", "b"], [("a", "b", 3.0, 2)], "not within 0 and 2"),
])
def test_bad_games_are_named(players, games, message):
    with pytest.raises(ValueError, match=message):
        fit_ratings(players, games)


def test_choose_spreads_snapshots_with_first_and_last():
    snaps = [(s, f"snapshot-{s}") for s in range(0, 100_001, 5_000)]  # 21 snapshots
    picked = [s for s, _ in choose(snaps, 5)]
    assert picked == [0, 25_000, 50_000, 75_000, 100_000]
    assert choose(snaps[:3], 5) == snaps[:3]
    with pytest.raises(ThermorlError, match="at least 2 snapshots"):
        choose(snaps, 1)


def test_standard_errors_match_the_two_player_closed_form():
    # two players, n games at win probability p: Var(log-odds) = 1 / (n p (1 - p)), so the
    # rating difference's error is 400 / ln 10 / sqrt(n p (1 - p)); the anchor's own is 0
    r, err = fit_ratings(["a", "b"], [("a", "b", 30.0, 40)], with_errors=True)
    assert err["a"] == 0.0
    assert err["b"] == pytest.approx(400 / math.log(10) / math.sqrt(40 * 0.75 * 0.25), rel=1e-6)
    # more games, smaller errors
    _, err4 = fit_ratings(["a", "b"], [("a", "b", 120.0, 160)], with_errors=True)
    assert err4["b"] == pytest.approx(err["b"] / 2, rel=1e-6)
