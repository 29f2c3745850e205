"""benchmarks/sac_noise.py: the betas are compared at the last evaluation step every run of an
env reached (runs stopped at a wall time reach different steps), per seed and on average; a
run that logged no evaluation leaves its seed empty rather than failing the table."""

import importlib.util
from pathlib import Path

DIR = Path(__file__).resolve().parents[2] / "benchmarks"
spec = importlib.util.spec_from_file_location("sac_noise", DIR / "sac_noise.py")
script = importlib.util.module_from_spec(spec)
spec.loader.exec_module(script)


def write_run(out, env, beta, seed, evals):
    d = out / script.run_name(env, beta, seed)
    d.mkdir(parents=True)
    lines = ["global_step,loss/value,eval/mean_return"]
    for step, ret in evals:  # a row without an evaluation between each
        lines += [f"{step - 500},0.1,", f"{step},0.1,{ret}"]
    (d / "metrics.csv").write_text("\n".join(lines) + "\n")


def test_betas_compare_at_the_last_step_all_runs_reached(tmp_path):
    env = "Hopper-v5"
    write_run(tmp_path, env, 0.0, 1, [(10_000, 100), (20_000, 300), (30_000, 500)])
    write_run(tmp_path, env, 0.0, 2, [(10_000, 120), (20_000, 200)])  # stopped earliest
    write_run(tmp_path, env, 1.0, 1, [(10_000, 90), (20_000, 250), (30_000, 700)])
    write_run(tmp_path, env, 1.0, 2, [(10_000, 80), (20_000, 150), (30_000, 600)])
    table = script.summarize(tmp_path, [env], [0.0, 1.0], [1, 2])
    white, pink = table["rows"]
    assert white["step"] == pink["step"] == 20_000
    assert white["per_seed"] == [300, 200] and white["mean"] == 250
    assert pink["per_seed"] == [250, 150] and (pink["min"], pink["max"]) == (150, 250)
    assert white["curve_mean_per_seed"] == [200, 160]  # evaluations up to the common step
    assert table["runs"][script.run_name(env, 1.0, 2)][-1] == (30_000, 600.0)


def test_a_run_without_evaluations_leaves_its_seed_empty(tmp_path):
    env = "HalfCheetah-v5"
    write_run(tmp_path, env, 0.0, 1, [(10_000, 5)])
    table = script.summarize(tmp_path, [env], [0.0], [1, 2])  # seed 2 never started
    (row,) = table["rows"]
    assert row["step"] == 0 and row["per_seed"] == [None, None] and row["mean"] is None
