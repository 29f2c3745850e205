"""benchmarks/runners.py: a child run reports samples per second of training, and the table's
ratios are each backend's median over the local median at the same runner count."""

import importlib.util
import sys
from pathlib import Path

DIR = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(DIR))  # runners.py imports suite.py beside it
spec = importlib.util.spec_from_file_location("runners_bench", DIR / "runners.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def test_child_counts_samples_per_second_of_training():
    res = bench.child(bench.ENVS["slow"], "async", 2, 512, 0.0)
    assert res["steps"] == 512 and res["samples_per_s"] == res["steps"] / res["train_s"]


def test_table_ratios_against_local_at_the_same_runner_count():
    runs = [{"env": "slow", "backend": b, "runners": n, "samples_per_s": v}
            for b, n, v in [("local", 1, 100), ("local", 1, 300), ("async", 1, 150),
                            ("local", 2, 200), ("async", 2, 380), ("async", 2, 400),
                            ("async", 2, 420)]]
    lines = bench.table(runs).splitlines()
    assert "| slow | local | 1 | 200 | 1.00 | 2 |" in lines
    assert "| slow | async | 1 | 150 | 0.75 | 1 |" in lines
    assert "| slow | async | 2 | 400 | 2.00 | 3 |" in lines
