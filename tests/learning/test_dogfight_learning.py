"""The Dogfight preset, run as a new user runs it (`thermorl train thermorl/Dogfight-v0`: 2M
steps), wins more than half of 100 duels against the scripted pursuit opponent on seeds other
than those it was chosen on (1 to 5: 71, 55, 67, 55, 61 wins; benchmarks/
dogfight_preset_seeds.json). A random policy wins about 1% (tests/unit/test_dogfight.py).

Measured for these seeds at 2M steps on one core: seed 6 won 62, seed 7 won 54 (about 5
minutes each). Outcomes at a given seed are chaotic in float rounding (the fused and autograd
paths, equal to 1e-7 after an update, end elsewhere), so the test pins one torch thread, as the
measurement did; on another machine or torch build a seed may land elsewhere. One test per seed
so pytest-xdist runs them side by side. Every head must also end at its entropy target.

Self-play (`--selfplay.enabled true`, its own preset: 32 envs, the learning rate annealed):
trained only against snapshots of itself, the pilot wins more than half of 100 duels against
the scripted pilot it never met; seeds 1 to 5 (69, 51, 63, 62, 61 wins) chose the preset, and
seeds 6 and 7 won 56 and 70 (docs/dogfight.md, Self-play; about 4 minutes each)."""

import pytest

import thermorl

pytestmark = pytest.mark.slow
ENV = "thermorl/Dogfight-v0"


@pytest.mark.parametrize("seed", [6, 7])
def test_the_preset_wins_more_than_half_of_its_duels(seed):
    cfg = thermorl.make_config(ENV, seed=seed, torch_threads=1)
    assert cfg.preset == ENV and cfg.total_timesteps == 2_000_000
    algo = thermorl.PPO(ENV, cfg).learn()
    ev = algo.final_eval  # the run's own: 100 deterministic duels, as `thermorl train` prints
    assert ev["episodes"] == 100
    assert ev["outcomes"].get("win", 0.0) > 0.5, ev["outcome_counts"]
    # each head was held near its own target (an actuator and a coefficient per head), and no
    # head's target was reported out of reach on the preset
    for head in ("maneuver", "fire", "throttle"):
        assert abs(algo.logger.latest[f"entropy_error/{head}"]) < 0.1, algo.logger.latest
        assert not any(r[f"warn/entropy_unreachable/{head}"] for r in algo.logger.history)


@pytest.mark.parametrize("seed", [6, 7])
def test_self_play_alone_beats_the_scripted_pilot_it_never_met(seed):
    pytest.importorskip("pettingzoo")
    cfg = thermorl.make_config(ENV, seed=seed, torch_threads=1, **{"selfplay.enabled": True})
    assert cfg.preset == f"selfplay/{ENV}" and cfg.total_timesteps == 2_000_000
    assert cfg.selfplay.scripted_weight == 0  # the scripted pilot never plays in training
    algo = thermorl.PPO(ENV, cfg).learn()
    ev = algo.final_eval  # against the scripted pilot: 100 deterministic duels
    assert ev["episodes"] == 100
    assert ev["outcomes"].get("win", 0.0) > 0.5, ev["outcome_counts"]
