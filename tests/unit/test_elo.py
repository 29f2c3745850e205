"""Elo: hand-computed values, zero-sum updates, symmetry, and the `Ratings` table."""

import io
import math

import pytest
import torch

from thermorl.selfplay import Ratings, elo_update, expected_score


def test_equal_ratings_expect_half_and_a_win_moves_each_by_half_k():
    assert expected_score(1200, 1200) == 0.5
    assert elo_update(1200, 1200, 1.0, k=16.0) == (1208.0, 1192.0)
    assert elo_update(1200, 1200, 0.0, k=16.0) == (1192.0, 1208.0)


def test_400_points_are_ten_to_one_odds():
    assert expected_score(1600, 1200) == pytest.approx(10 / 11)


def test_the_stronger_player_losing_by_hand():
    e = expected_score(1400, 1200)
    assert e == pytest.approx(1 / (1 + 10 ** -0.5)) and e == pytest.approx(0.7597, abs=1e-4)
    r_a, r_b = elo_update(1400, 1200, 0.0, k=32.0)
    assert r_a - 1400 == pytest.approx(-24.31, abs=5e-3)
    assert r_b - 1200 == pytest.approx(24.31, abs=5e-3)


@pytest.mark.parametrize("r_a,r_b", [(1200, 1200), (1500, 1100), (900, 1700.5)])
@pytest.mark.parametrize("score", [0.0, 0.25, 0.5, 1.0])
def test_zero_sum_and_symmetric(r_a, r_b, score):
    assert expected_score(r_a, r_b) + expected_score(r_b, r_a) == pytest.approx(1.0)
    n_a, n_b = elo_update(r_a, r_b, score, k=20.0)
    assert (n_a - r_a) == pytest.approx(-(n_b - r_b))
    # the same game told from b's side gives the same ratings
    m_b, m_a = elo_update(r_b, r_a, 1.0 - score, k=20.0)
    assert (m_a, m_b) == pytest.approx((n_a, n_b))


def test_a_draw_between_equals_changes_nothing_and_favours_the_weaker_otherwise():
    assert elo_update(1350, 1350, 0.5) == (1350.0, 1350.0)
    r_a, r_b = elo_update(1500, 1300, 0.5)
    assert r_a < 1500 and r_b > 1300


@pytest.mark.parametrize("score", [-0.1, 1.5, math.nan])
def test_a_score_outside_0_1_is_refused(score):
    with pytest.raises(ValueError, match=r"score_a must be in \[0, 1\]"):
        elo_update(1200, 1200, score)


@pytest.mark.parametrize("k", [0.0, -1.0, math.inf, math.nan])
def test_k_must_be_positive_and_finite(k):
    with pytest.raises(ValueError, match="k must be a finite number > 0"):
        elo_update(1200, 1200, 1.0, k=k)
    with pytest.raises(ValueError, match="k must be a finite number > 0"):
        Ratings(k=k)


def test_ratings_start_at_initial_and_record_games():
    r = Ratings(initial=1000.0, k=16.0)
    assert r.rating("new") == 1000.0 and "new" not in r and len(r) == 0
    assert r.record("a", "b", 1.0) == (1008.0, 992.0)
    assert r.record("a", "c", 0.5) == pytest.approx(elo_update(1008.0, 1000.0, 0.5))
    assert r.games("a") == 2 and r.games("b") == 1 and r.games("c") == 1
    assert sum(r.rating(n) for n in "abc") == pytest.approx(3000.0)  # zero-sum over the league


def test_table_is_strongest_first_with_ties_by_name():
    r = Ratings()
    r.record("b", "a", 0.5)  # both stay at 1200
    r.record("z", "y", 1.0)
    assert [row[0] for row in r.table()] == ["z", "a", "b", "y"]
    assert r.table()[0] == ("z", 1208.0, 1)


def test_a_player_cannot_play_itself():
    with pytest.raises(ValueError, match="two different players"):
        Ratings().record("a", "a", 1.0)


def test_state_dict_round_trip_through_a_weights_only_load():
    r = Ratings()
    for a, b, s in [("x", "y", 1.0), ("y", "z", 0.5), ("z", "x", 0.0), ("x", "y", 1.0)]:
        r.record(a, b, s)
    buf = io.BytesIO()
    torch.save({"elo": r.state_dict()}, buf)
    buf.seek(0)
    back = Ratings()
    back.load_state_dict(torch.load(buf, weights_only=True)["elo"])
    assert back.table() == r.table()
    assert back.record("x", "z", 0.5) == r.record("x", "z", 0.5)


def test_a_player_can_enter_at_a_given_rating_once():
    r = Ratings()
    r.enter("snapshot-100", 1250.0)
    assert r.rating("snapshot-100") == 1250.0 and r.games("snapshot-100") == 0
    assert ("snapshot-100", 1250.0, 0) in r.table()
    with pytest.raises(ValueError, match="already rated"):
        r.enter("snapshot-100", 1300.0)
    with pytest.raises(ValueError, match="finite"):
        r.enter("x", float("nan"))
