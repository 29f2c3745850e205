"""Noise color side by side: final evaluation per env, beta and seed, to choose the default beta.

    python benchmarks/noise_table.py --jobs 2 --json benchmarks/noise_table_results.json

Every run uses its env's preset (thermorl/Momentum-v0's sets beta itself, overridden here) and
changes only `entropy.noise.beta`, which reaches every Gaussian head: Pendulum-v1's torque,
Momentum-v0's force, Dogfight-v0's throttle (its discrete heads are untouched). Dogfight runs
`--dogfight-steps` (1M by default, half its preset, to keep the table affordable on 2 cores) and
reports the win rate over its 100 evaluation duels.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import statistics
import time

ENVS = ["Pendulum-v1", "thermorl/Momentum-v0", "thermorl/Dogfight-v0"]


def run_one(job: tuple[str, float, int, int | None]) -> dict:
    import torch

    import thermorl

    torch.set_num_threads(1)
    env, beta, seed, steps = job
    extra = {"total_timesteps": steps} if steps else {}
    cfg = thermorl.make_config(env, seed=seed, **{
        "entropy.noise.beta": beta, "eval.freq": 0, "log.progress": "off", **extra})
    t0 = time.perf_counter()
    algo = thermorl.PPO(env, cfg).learn()
    ev = algo.final_eval
    return {"env": env, "beta": beta, "seed": seed, "steps": cfg.total_timesteps,
            "eval": ev["mean_return"], "win": ev["outcomes"].get("win", 0.0) if "outcomes" in ev else None,
            "wall_s": time.perf_counter() - t0}


def score(r: dict) -> float:
    return r["win"] if r["win"] is not None else r["eval"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--envs", nargs="+", default=ENVS)
    ap.add_argument("--betas", nargs="+", type=float, default=[0.0, 0.5, 1.0, 2.0])
    ap.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    ap.add_argument("--dogfight-steps", type=int, default=1_000_000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--json", help="write every run's results here")
    args = ap.parse_args()
    jobs = [(e, b, s, args.dogfight_steps if "Dogfight" in e else None)
            for e in args.envs for b in args.betas for s in args.seeds]
    jobs.sort(key=lambda j: "Dogfight" not in j[0])  # longest first keeps both workers busy
    with mp.get_context("spawn").Pool(args.jobs) as pool:
        results = pool.map(run_one, jobs, chunksize=1)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    print("| env (metric) | beta | mean (per seed) |")
    print("|---|---|---|")
    for e in args.envs:
        for b in args.betas:
            rs = sorted((r for r in results if r["env"] == e and r["beta"] == b),
                        key=lambda r: r["seed"])
            metric = "win rate" if rs and rs[0]["win"] is not None else "eval return"
            per = ", ".join(f"{score(r):.2f}" for r in rs)
            print(f"| {e} ({metric}) | {b:g} | {statistics.fmean(map(score, rs)):.2f} ({per}) |")


if __name__ == "__main__":
    main()
