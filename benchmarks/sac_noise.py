"""SAC with white against pink (or any colored) exploration noise, on the suite's continuous
tasks, to choose SAC's default `entropy.noise.beta` from a table rather than by habit.

    python benchmarks/sac_noise.py --out runs/sac_noise --jobs 12 --minutes 9 \
        --json benchmarks/sac_noise_results.json

Every run is `thermorl train ENV --algo sac` with the env's SAC preset (SB3's SAC defaults for
MuJoCo: 1M steps, 10k random steps first) and changes only `entropy.noise.beta`. Runs evaluate
deterministically every `--eval-freq` steps. With `--minutes`, every run is stopped at that wall
time (Ctrl-C, so each saves a checkpoint and can be resumed with `thermorl train --resume`) and
the table compares the betas at the last evaluation step that every run of the env reached, so
a machine that cannot afford 1M steps per run still gets a like-for-like table. `--summarize`
rebuilds the table from run directories already on disk (resumed ones too).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ENVS = ["HalfCheetah-v5", "Hopper-v5"]


def run_name(env: str, beta: float, seed: int) -> str:
    return f"{env.replace('/', '_')}_beta{beta:g}_seed{seed}"


def launch(out: Path, env: str, beta: float, seed: int, steps: int | None,
           eval_freq: int, episodes: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "thermorl.cli", "train", env, "--algo", "sac",
           "--seed", str(seed), "--entropy.noise.beta", str(beta), "--eval.freq", str(eval_freq),
           "--eval.episodes", str(episodes), "--log.progress", "off", "--log.tensorboard", "false",
           "--run-dir", str(out / run_name(env, beta, seed))]
    if steps:
        cmd += ["--total-timesteps", str(steps)]
    env_vars = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    log = open(out / f"{run_name(env, beta, seed)}.log", "w")
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env_vars,
                            start_new_session=True)


def curve(run_dir: Path) -> list[tuple[int, float]]:
    """(global step, deterministic eval mean return) for every evaluation the run logged."""
    f = run_dir / "metrics.csv"
    if not f.is_file():
        return []
    with f.open() as fh:
        rows = list(csv.DictReader(fh))
    return [(int(r["global_step"]), float(r["eval/mean_return"])) for r in rows
            if r.get("eval/mean_return") not in (None, "")]


def summarize(out: Path, envs: list[str], betas: list[float], seeds: list[int]) -> dict:
    table: dict = {"runs": {}, "rows": []}
    for env in envs:
        curves = {(b, s): curve(out / run_name(env, b, s)) for b in betas for s in seeds}
        for (b, s), c in curves.items():
            table["runs"][run_name(env, b, s)] = c
        reached = [max((st for st, _ in c), default=0) for c in curves.values()]
        common = min(reached) if reached else 0
        for b in betas:
            upto = [[r for st, r in curves[(b, s)] if st <= common] for s in seeds]
            at = [c[-1] if c else None for c in upto]
            auc = [statistics.fmean(c) if c else None for c in upto]
            ok = [x for x in at if x is not None]
            table["rows"].append({
                "env": env, "beta": b, "step": common, "per_seed": at,
                "mean": statistics.fmean(ok) if ok else None,
                "min": min(ok) if ok else None, "max": max(ok) if ok else None,
                "curve_mean_per_seed": auc})
    return table


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, required=True, help="folder for the run directories")
    p.add_argument("--envs", nargs="+", default=ENVS)
    p.add_argument("--betas", nargs="+", type=float, default=[0.0, 1.0])
    p.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    p.add_argument("--steps", type=int, default=None, help="per run (default: the preset's)")
    p.add_argument("--eval-freq", type=int, default=10_000)
    p.add_argument("--eval-episodes", type=int, default=5)
    p.add_argument("--jobs", type=int, default=2, help="runs at a time (one core each)")
    p.add_argument("--minutes", type=float, default=None, help="stop every run at this wall time")
    p.add_argument("--summarize", action="store_true", help="only read the runs in --out")
    p.add_argument("--json", type=Path, default=None)
    a = p.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    if not a.summarize:
        jobs = [(e, b, s) for e in a.envs for s in a.seeds for b in a.betas]
        deadline = time.monotonic() + 60 * a.minutes if a.minutes else None
        running: list[subprocess.Popen] = []
        while jobs or running:
            running = [r for r in running if r.poll() is None]
            while jobs and len(running) < a.jobs:
                running.append(launch(a.out, *jobs.pop(0), a.steps, a.eval_freq,
                                      a.eval_episodes))
            if deadline is not None and time.monotonic() > deadline:
                for r in running:  # Ctrl-C: each run saves a checkpoint and stops
                    os.killpg(r.pid, signal.SIGINT)
                for r in running:
                    r.wait(timeout=120)
                break
            time.sleep(2)
    table = summarize(a.out, a.envs, a.betas, a.seeds)
    for row in table["rows"]:
        seeds = ", ".join("-" if x is None else f"{x:,.0f}" for x in row["per_seed"])
        mean = "-" if row["mean"] is None else f"{row['mean']:,.0f}"
        print(f"{row['env']:<16} beta {row['beta']:<4g} at {row['step']:>8,} steps: "
              f"mean {mean} (seeds {seeds})")
    if a.json:
        a.json.write_text(json.dumps(table, indent=1))


if __name__ == "__main__":
    main()
