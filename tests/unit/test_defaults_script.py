"""benchmarks/defaults.py: every (task, candidate) of its groups builds the config it claims
(the `general` preset's candidate equals the preset), and its normalized score is
(return - worst) / (best - worst) per task and seed, averaged."""

import importlib.util
import sys
from pathlib import Path

import pytest

import thermorl

DIR = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(DIR))  # defaults.py imports compare.py beside it
spec = importlib.util.spec_from_file_location("defaults_script", DIR / "defaults.py")
script = importlib.util.module_from_spec(spec)
spec.loader.exec_module(script)

CASES = [(t, c) for g in script.GROUPS.values() for t in g["tasks"] for c in g["candidates"]
         if not t.startswith("LunarLander")]  # Box2D comes with the bench extra only


@pytest.mark.parametrize("task,cand", CASES, ids=[f"{t}-{c}" for t, c in CASES])
def test_every_case_builds(task, cand):
    cfg = script.config_for(task, cand, seed=1, total=4096)
    assert cfg.total_timesteps == 4096 and cfg.eval.deterministic and cfg.seed == 1
    assert cfg.algo == ("sac" if cand.startswith("sac") else "ppo")
    assert (cfg.ppo.recurrent == "lstm") == cand.startswith("lstm")


def test_the_general_candidate_is_the_general_preset():
    cand = script.config_for("Acrobot-v1", "mujoco4", seed=1, total=4096)
    general = thermorl.make_config("Acrobot-v1", seed=1, total_timesteps=4096)
    assert general.preset == "general" and cand.ppo == general.ppo
    assert cand.policy == general.policy and cand.entropy == general.entropy


def test_normalized_score_by_hand():
    runs = [{"task": t, "candidate": c, "seed": 1, "steps": 10, "wall_s": 1.0, "eval_mean": v}
            for t, c, v in [("A", "x", 0.0), ("A", "y", 10.0), ("A", "z", 5.0),
                            ("B", "x", -3.0), ("B", "y", -3.0), ("B", "z", -1.0)]]
    lines = script.table(runs).splitlines()
    score = {ln.split("|")[1].strip(): float(ln.split("|")[2]) for ln in lines[-3:]}
    assert score == {"x": 0.0, "y": 0.5, "z": 0.75}  # A: 0, 1, .5; B: 0, 0, 1
