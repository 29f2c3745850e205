"""benchmarks/suite.py: every row and setting builds thermorl's agent; the zoo sets it runs in
both libraries are the MuJoCo presets' (so a preset cannot drift from what the table measured);
its table reports mean and range per row, setting and library, with failed runs counted."""

import importlib.util
import sys
from pathlib import Path

import pytest

import thermorl

DIR = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(DIR))  # suite.py imports compare.py beside it
spec = importlib.util.spec_from_file_location("suite", DIR / "suite.py")
suite = importlib.util.module_from_spec(spec)
spec.loader.exec_module(suite)

CASES = [(name, setting) for name, row in suite.ROWS.items() for setting in row["settings"]]


@pytest.mark.parametrize("name,setting", CASES, ids=[f"{n}-{s}" for n, s in CASES])
def test_every_row_builds(name, setting):
    row = suite.ROWS[name]
    cfg = suite.thermorl_config(row, name, setting, 4096, seed=1)
    assert cfg.total_timesteps == 4096 and cfg.eval.deterministic
    assert (cfg.ppo.recurrent == "lstm") == bool(row.get("recurrent"))
    if setting == "defaults":  # the general preset, never the env's own
        assert cfg.preset == "general"
    agent = thermorl.PPO(cfg.env_id, cfg)
    agent.close()


@pytest.mark.parametrize("name,preset", [("halfcheetah-ppo", "auto"),
                                         ("hopper-ppo", "zoo/Hopper-v5")])  # by name only
def test_zoo_rows_are_the_mujoco_presets(name, preset):
    row = suite.ROWS[name]
    zoo = suite.thermorl_config(row, name, "zoo", 1_000_000, seed=1)
    preset = thermorl.make_config(row["env_id"], seed=1, preset=preset,
                                  **{"log.progress": "off"})
    assert zoo.ppo == preset.ppo and zoo.policy == preset.policy
    assert zoo.entropy.noise == preset.entropy.noise


def test_table_reports_mean_range_and_failures():
    runs = [{"row": "r", "setting": "zoo", "lib": "thermorl", "seed": s, "steps": 2048,
             "eval_mean": v, "wall_s": w} for s, v, w in [(1, 10.0, 5.0), (2, 20.0, 7.0)]]
    runs.append({"row": "r", "setting": "zoo", "lib": "thermorl", "seed": 3,
                 "error": "exit status 1", "stderr_tail": ""})
    line = suite.table(runs).splitlines()[-1]
    assert "| 15.0 (10.0 to 20.0) | 6 (5 to 7) | 1, 2 (1 failed) |" in line
