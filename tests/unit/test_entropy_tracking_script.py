"""benchmarks/entropy_tracking.py: every case builds its agent (no stale setting or env id), and
its error measure and table read runs as documented."""

import importlib.util
from pathlib import Path

import pytest

import thermorl

PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "entropy_tracking.py"
spec = importlib.util.spec_from_file_location("entropy_tracking", PATH)
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


@pytest.mark.parametrize("case", list(bench.CASES))
def test_every_case_builds_with_and_without_its_preset(case):
    env, algo, settings, none_extra, budget, presets = bench.CASES[case]
    for preset in presets:
        over = {**settings, **(none_extra if preset == "none" else {})}
        cfg = thermorl.make_config(env, algo=algo, preset=preset, total_timesteps=budget, **over)
        assert cfg.entropy.mode == "learned" or any(
            h.get("mode") == "learned" for h in cfg.entropy.heads.values()), (case, preset)
        agent = (thermorl.SAC if algo == "sac" else thermorl.PPO)(env, cfg)
        assert any(c.s.mode == "learned" for c in agent.entropy.heads.values())
        agent.envs.close()


def test_error_measures_and_table():
    row = {"case": "pendulum-std-0.2", "preset": "none", "seed": 1, "eval": -150.0,
           "wall_s": 10.0, "heads": {"action": {
               "constraint": "equal", "mean_err": 0.01, "worst_err": 0.1, "mean_below": 0.0,
               "worst_below": 0.0, "unreachable": 0.0}}}
    text = bench.table([row, {**row, "seed": 2, "eval": -170.0}])
    assert "| pendulum-std-0.2 | none | action | 0.010, 0.010 | 0.100, 0.100 | 0 | -150.0, -170.0 |" \
        in text
