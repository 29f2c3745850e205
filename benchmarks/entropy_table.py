"""Entropy modes side by side: final evaluation return and entropy tracking error.

    python benchmarks/entropy_table.py --seeds 1 2 3 --jobs 2 --json entropy_table.json

Every variant uses the env's preset and the same target (CartPole-v1: half the maximum entropy;
Pendulum-v1: the auto target, std 0.5); for fixed and scheduled coefficients the target is only
a yardstick. Tracking error is the mean |entropy - target| over the second half of training, in
nats and as a fraction of the head's scale (log 2 for CartPole, 1 nat for Pendulum's 1-D head).
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import statistics
import time

VARIANTS = {
    "fixed 0.01": {"entropy.mode": "fixed", "entropy.coef": 0.01},
    "scheduled 0.02->0": {"entropy.mode": "scheduled",
                          "entropy.coef": {"start": 0.02, "end": 0.0, "shape": "linear"}},
    "learned min pi": {"entropy.mode": "learned", "entropy.constraint": "min",
                       "entropy.controller": "pi"},
    "learned min dual": {"entropy.mode": "learned", "entropy.constraint": "min",
                         "entropy.controller": "dual"},
    "learned equal pi": {"entropy.mode": "learned", "entropy.constraint": "equal",
                         "entropy.controller": "pi"},
    "learned equal dual": {"entropy.mode": "learned", "entropy.constraint": "equal",
                           "entropy.controller": "dual"},
}
TARGETS = {"CartPole-v1": {"fraction": 0.5}, "Pendulum-v1": "auto"}
SCALES = {"CartPole-v1": math.log(2), "Pendulum-v1": 1.0}


def run_one(job: tuple[str, str, int]) -> dict:
    import torch

    import thermorl

    torch.set_num_threads(1)
    env, variant, seed = job
    cfg = thermorl.make_config(env, seed=seed, **{
        **VARIANTS[variant], "entropy.target": TARGETS[env], "eval.freq": 0,
        "eval.episodes": 20, "log.progress": "off"})
    t0 = time.perf_counter()
    algo = thermorl.PPO(env, cfg).learn()
    rows = algo.logger.history[len(algo.logger.history) // 2:]
    err = statistics.fmean(abs(r["entropy/action"] - r["target_entropy/action"]) for r in rows)
    return {"env": env, "variant": variant, "seed": seed,
            "eval": algo.final_eval["mean_return"], "err_nats": err,
            "err_scale": err / SCALES[env], "wall_s": time.perf_counter() - t0,
            "final_alpha": algo.logger.history[-1]["alpha/action"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--envs", nargs="+", default=list(TARGETS))
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS))
    ap.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--json", help="write every run's results here")
    args = ap.parse_args()
    jobs = [(e, v, s) for e in args.envs for v in args.variants for s in args.seeds]
    with mp.get_context("spawn").Pool(args.jobs) as pool:
        results = pool.map(run_one, jobs, chunksize=1)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    print("| env | variant | eval return, mean (per seed) | tracking error, nats (of scale) |")
    print("|---|---|---|---|")
    for e in args.envs:
        for v in args.variants:
            rs = [r for r in results if r["env"] == e and r["variant"] == v]
            ev = statistics.fmean(r["eval"] for r in rs)
            er = statistics.fmean(r["err_nats"] for r in rs)
            per = ", ".join(f"{r['eval']:.0f}" for r in rs)
            print(f"| {e} | {v} | {ev:.1f} ({per}) | {er:.3f} ({er / SCALES[e]:.3f}) |")


if __name__ == "__main__":
    main()
