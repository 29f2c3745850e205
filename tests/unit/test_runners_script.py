"""benchmarks/runners.py: a child run reports samples per second of training after its first
iteration, and the table's ratios are each backend's median over the local median with as many
envs."""

import importlib.util
import sys
from pathlib import Path

DIR = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(DIR))  # runners.py imports suite.py beside it
spec = importlib.util.spec_from_file_location("runners_bench", DIR / "runners.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def test_child_counts_samples_per_second_of_training():
    res = bench.child(bench.ENVS["slow"], "async", 2, 1, 1536, 0.0)  # 3 iterations of 512
    assert res["steps"] == 1536 and 0 < res["startup_s"] < res["wall_s"]
    # two iterations' samples over their time, which is less than the whole run's
    assert res["samples_per_s"] > 1024 / res["wall_s"]


def test_table_ratios_against_local_at_the_same_runner_count():
    runs = [{"env": "slow", "backend": b, "runners": n, "per_runner": k, "samples_per_s": v}
            for b, n, k, v in [("local", 1, 1, 100), ("local", 1, 1, 300), ("async", 1, 1, 150),
                               ("local", 2, 1, 200), ("async", 2, 1, 380), ("async", 2, 1, 400),
                               ("async", 2, 1, 420), ("local", 2, 4, 100), ("ray", 2, 4, 190)]]
    lines = bench.table(runs).splitlines()
    assert "| slow | 1 | local | 1 (the trainer) | 200 | 1.00 | 2 |" in lines
    assert "| slow | 1 | async | 1 processes x 1 envs | 150 | 0.75 | 1 |" in lines
    assert "| slow | 2 | async | 2 processes x 1 envs | 400 | 2.00 | 3 |" in lines
    assert "| slow | 8 | ray | 2 runners x 4 envs | 190 | 1.90 | 1 |" in lines
