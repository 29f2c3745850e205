"""The opponent pool: snapshot and swap times on irregular steps, the window, the exact draw
probabilities, a resume that draws the same opponents, and its validation messages."""

import io
import math

import numpy as np
import pytest
import torch

from thermorl.errors import ConfigError
from thermorl.selfplay import LATEST, SCRIPTED, OpponentPool, opponent_probabilities


def weights_at(step):
    """Stand-in learner weights that say which step they come from."""
    return {"w": torch.full((2, 3), float(step)), "b": torch.arange(3.0) + step}


def first_steps_reaching_multiples(steps, period):
    """Independent of the pool: for each multiple of `period`, the first step reaching it."""
    out = []
    for m in range(period, steps[-1] + 1, period):
        s = next(s for s in steps if s >= m)
        if s not in out:
            out.append(s)
    return out


def pool(**kw):
    args = dict(save_steps=10, swap_steps=10, window=3, latest_ratio=0.5)
    return OpponentPool(**{**args, **kw})


def test_snapshots_come_at_the_first_step_past_each_multiple_of_save_steps():
    p = pool(save_steps=10, window=100)
    steps = list(range(7, 400, 7))
    taken = [s for s in steps if p.maybe_snapshot(s, weights_at(s))]
    assert taken == first_steps_reaching_multiples(steps, 10)
    assert taken[:5] == [14, 21, 35, 42, 56]  # 10, 20, 30, 40, 50 reached; 28 reaches none
    assert p.snapshots == [f"snapshot-{s}" for s in taken]


def test_a_call_that_skips_several_multiples_takes_one_snapshot():
    p = pool(save_steps=10)
    assert p.maybe_snapshot(35, weights_at(35)) and not p.maybe_snapshot(39, weights_at(39))
    assert p.maybe_snapshot(40, weights_at(40)) and p.snapshots == ["snapshot-35", "snapshot-40"]
    assert not p.maybe_snapshot(0, weights_at(0)) and not pool().maybe_snapshot(9, weights_at(9))


def test_a_gate_is_asked_at_each_save_time_with_the_newest_snapshot_and_can_refuse():
    p = pool(save_steps=10, window=100)
    asked = []

    def admit(newest):  # admits a snapshot only at steps divisible by 30
        asked.append(newest)
        return step % 30 == 0

    kept = []
    for step in range(10, 100, 5):
        if p.maybe_snapshot(step, weights_at(step), admit):
            kept.append(step)
    # the first snapshot enters unasked (nothing to beat); a refusal is still a save time,
    # so the next attempt is save_steps later, not at the next call
    assert kept == [10, 30, 60, 90]
    assert asked == ["snapshot-10", "snapshot-10", "snapshot-30", "snapshot-30", "snapshot-30",
                     "snapshot-60", "snapshot-60", "snapshot-60"]
    assert p.snapshots == [f"snapshot-{s}" for s in kept]


def test_the_window_keeps_the_newest_snapshots_as_cpu_copies():
    p = pool(save_steps=10, window=3)
    live = weights_at(0)
    for s in range(10, 60, 10):
        live["w"].fill_(s)  # the learner's tensors change in place between snapshots
        p.maybe_snapshot(s, live)
    assert p.snapshots == ["snapshot-30", "snapshot-40", "snapshot-50"]
    assert p.names == [LATEST, "snapshot-30", "snapshot-40", "snapshot-50"]
    for s in (30, 40, 50):
        w = p.weights(f"snapshot-{s}")
        assert torch.equal(w["w"], torch.full((2, 3), float(s))) and w["w"].device.type == "cpu"
    with pytest.raises(KeyError, match="no snapshot 'snapshot-10'.*snapshot-30"):
        p.weights("snapshot-10")


def test_latest_and_scripted_have_no_weights_in_the_pool():
    p = pool(scripted_weight=1.0)
    with pytest.raises(KeyError, match="learner's current weights"):
        p.weights(LATEST)
    with pytest.raises(KeyError, match="scripted policy"):
        p.weights(SCRIPTED)


def test_weights_must_be_tensors():
    with pytest.raises(TypeError, match=r"weights\['step'\] is a int"):
        pool().maybe_snapshot(10, {"w": torch.zeros(1), "step": 3})


def test_swaps_come_at_the_first_step_past_each_multiple_of_swap_steps():
    p = pool(save_steps=10, swap_steps=25)
    steps = list(range(7, 500, 7))
    swapped = []
    for s in steps:
        p.maybe_snapshot(s, weights_at(s))
        name = p.maybe_swap(s)
        if name is not None:
            swapped.append(s)
            assert name == p.current and name in p.names
    assert swapped == first_steps_reaching_multiples(steps, 25)
    assert swapped[:4] == [28, 56, 77, 105]


def test_the_first_opponent_is_latest():
    assert pool().current == LATEST


@pytest.mark.parametrize("n_snap,ratio,scripted", [
    (4, 0.3, 2.0),   # latest 0.3, each snapshot 0.7/6, scripted 1.4/6
    (3, 0.5, 0.0),   # no scripted opponent: the snapshots share 0.5
    (0, 0.2, 1.5),   # empty window: scripted takes all the rest
    (2, 0.0, 0.0),   # never latest
    (2, 1.0, 3.0),   # always latest
])
def test_draw_frequencies_match_the_exact_probabilities(n_snap, ratio, scripted):
    p = pool(save_steps=1, swap_steps=1, window=max(n_snap, 1), latest_ratio=ratio,
             scripted_weight=scripted, seed=3)
    for s in range(1, n_snap + 1):
        p.maybe_snapshot(s, weights_at(s))
    snaps = p.snapshots
    assert len(snaps) == n_snap
    others = n_snap + scripted
    exact = {LATEST: ratio, **{s: (1 - ratio) / others for s in snaps}}
    if scripted:
        exact[SCRIPTED] = (1 - ratio) * scripted / others
    assert opponent_probabilities(snaps, ratio, scripted) == pytest.approx(exact)
    assert sum(exact.values()) == pytest.approx(1.0)

    n = 20_000
    counts = dict.fromkeys(exact, 0)
    for step in range(n_snap + 1, n_snap + 1 + n):
        counts[p.maybe_swap(step)] += 1
    for name, prob in exact.items():
        sigma = math.sqrt(n * prob * (1 - prob))
        assert abs(counts[name] - n * prob) <= 4 * sigma + 1e-9, (name, counts, exact)


@pytest.mark.parametrize("ratio", [0.0, 0.4, 1.0])
def test_with_an_empty_window_and_no_scripted_opponent_the_opponent_is_latest(ratio):
    p = pool(save_steps=10**9, swap_steps=5, latest_ratio=ratio)
    assert p.names == [LATEST] and p.probabilities() == {LATEST: 1.0}
    assert [p.maybe_swap(s) for s in range(5, 105, 5)] == [LATEST] * 20


def test_an_evicted_snapshot_stays_while_it_is_the_opponent():
    p = pool(save_steps=10, swap_steps=1000, window=1, latest_ratio=0.0)
    p.maybe_snapshot(10, weights_at(10))
    assert p.maybe_swap(1000) == "snapshot-10"
    p.maybe_snapshot(1010, weights_at(1010))
    assert p.snapshots == ["snapshot-1010"] and p.current == "snapshot-10"
    assert torch.equal(p.weights("snapshot-10")["b"], weights_at(10)["b"])
    assert p.maybe_swap(2000) == "snapshot-1010"
    with pytest.raises(KeyError):
        p.weights("snapshot-10")


def run(p, steps):
    """Drive a pool over `steps`; what it did, to compare two runs."""
    out = []
    for s in steps:
        snap = p.maybe_snapshot(s, weights_at(s))
        out.append((s, snap, p.maybe_swap(s)))
    return out


def weights_only_round_trip(state):
    buf = io.BytesIO()
    torch.save({"pool": state}, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=True)["pool"]


def test_a_resumed_pool_draws_the_same_opponents_and_holds_the_same_snapshots():
    kw = dict(save_steps=30, swap_steps=20, window=4, latest_ratio=0.25, scripted_weight=1.5)
    a = OpponentPool(**kw, seed=11)
    run(a, range(7, 700, 7))
    state = weights_only_round_trip(a.state_dict())
    assert isinstance(state["rng"]["state"]["state"], int)  # 128 bits, exact

    b = OpponentPool(**kw, seed=999)  # the saved generator replaces this seed
    b.load_state_dict(state)
    assert (b.current, b.snapshots, b.names) == (a.current, a.snapshots, a.names)
    for name in a.snapshots:
        wa, wb = a.weights(name), b.weights(name)
        assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)
    future = range(700, 3000, 7)
    ours, theirs = run(a, future), run(b, future)
    assert ours == theirs
    assert len({name for _, _, name in ours if name}) > 3  # the draws did vary
    for name in a.snapshots:
        assert torch.equal(a.weights(name)["w"], b.weights(name)["w"])


def test_a_resumed_pool_keeps_its_own_settings_and_the_newest_snapshots():
    a = pool(save_steps=10, window=4)
    run(a, range(10, 60, 10))
    b = pool(save_steps=10, window=2)
    b.load_state_dict(weights_only_round_trip(a.state_dict()))
    assert b.window == 2 and b.snapshots == ["snapshot-40", "snapshot-50"]


def test_a_state_naming_missing_snapshots_is_refused():
    a = pool()
    run(a, range(10, 40, 10))
    state = a.state_dict()
    del state["snapshots"]["snapshot-20"]
    with pytest.raises(ValueError, match="snapshot-20"):
        pool().load_state_dict(state)


@pytest.mark.parametrize("field,value,message", [
    ("save_steps", 0, "save_steps must be an integer >= 1, got 0"),
    ("save_steps", 2.5, "save_steps must be an integer >= 1, got 2.5"),
    ("swap_steps", -3, "swap_steps must be an integer >= 1, got -3"),
    ("swap_steps", True, "swap_steps must be an integer >= 1, got True"),
    ("window", 0, "window must be an integer >= 1, got 0"),
    ("latest_ratio", 1.5, r"latest_ratio must be a finite number in \[0, 1\], got 1.5"),
    ("latest_ratio", -0.1, r"latest_ratio must be a finite number in \[0, 1\], got -0.1"),
    ("latest_ratio", math.nan, r"latest_ratio must be a finite number in \[0, 1\], got nan"),
    ("scripted_weight", -1.0, "scripted_weight must be a finite number >= 0, got -1.0"),
    ("scripted_weight", math.inf, "scripted_weight must be a finite number >= 0, got inf"),
    ("seed", -1, "seed must be an integer >= 0, got -1"),
])
def test_validation_names_the_value_and_the_accepted_range(field, value, message):
    with pytest.raises(ValueError, match=message) as e:
        pool(**{field: value})
    assert isinstance(e.value, ConfigError)


def test_numpy_integers_are_accepted():
    p = OpponentPool(np.int64(10), np.int32(5), np.int64(2), np.float32(0.5))
    assert (p.save_steps, p.swap_steps, p.window, p.latest_ratio) == (10, 5, 2, 0.5)
