"""How closely each learned head's entropy follows its target, across tasks, with and without
each env's preset.

    python benchmarks/entropy_tracking.py --jobs 2 --json benchmarks/entropy_tracking_results.json

Per run and head: the mean |H - target| over the second half of the updates and the worst update
after warm-up (the first fifth of the updates), both as a fraction of the head's scale (log n for
a discrete head, one nat per dimension for a Gaussian one), the deterministic evaluation return at
the end, and whether `warn/entropy_unreachable/<head>` fired. The goal is every cell within 0.05
of scale on average and 0.15 at worst, every seed.

`--set KEY=VALUE` (YAML values) adds a setting to every run, e.g. `--set entropy.actuator=coef`
to measure the coefficient alone. `--cases` picks cases by name (see CASES).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import statistics
import time
from typing import Any

import yaml

LEARNED = {"entropy.mode": "learned", "entropy.constraint": "equal"}
STD_SCHEDULE = {"std": {"start": 0.6, "end": 0.3, "shape": "linear"}}

# name: (env id, algo, settings of every run, extra settings with --preset none, budget, presets)
CASES: dict[str, tuple[str, str, dict[str, Any], dict[str, Any], int, tuple[str, ...]]] = {
    "pendulum-std-schedule": ("Pendulum-v1", "ppo", {**LEARNED, "entropy.target": STD_SCHEDULE},
                              {}, 100_000, ("none", "auto")),
    "pendulum-std-0.2": ("Pendulum-v1", "ppo", {**LEARNED, "entropy.target": {"std": 0.2}},
                         {}, 100_000, ("none", "auto")),
    "cartpole-fraction-0.2": ("CartPole-v1", "ppo",
                              {**LEARNED, "entropy.target": {"fraction": 0.2}}, {}, 100_000,
                              ("none", "auto")),
    "cartpole-fraction-0.8": ("CartPole-v1", "ppo",
                              {**LEARNED, "entropy.target": {"fraction": 0.8}}, {}, 100_000,
                              ("none", "auto")),
    # the preset already holds a 0.6 -> 0.3 std schedule with pink noise
    "momentum-pink-std-schedule": ("thermorl/Momentum-v0", "ppo", {},
                                   {**LEARNED, "entropy.target": STD_SCHEDULE,
                                    "entropy.noise": {"beta": 1.0}}, 100_000, ("none", "auto")),
    # the preset's own targets per head (maneuver 0.3 of max, fire 0.5, throttle std 0.3); the
    # preset trains for 2M steps, tracking is measured over the first 300k
    "dogfight-per-head": ("thermorl/Dogfight-v0", "ppo", {},
                          {**LEARNED, "entropy.heads": {
                              "maneuver": {"target": {"fraction": 0.3}},
                              "fire": {"target": {"fraction": 0.5}},
                              "throttle": {"target": {"std": 0.3}}}}, 300_000, ("none", "auto")),
    "halfcheetah-std-schedule": ("HalfCheetah-v5", "ppo",
                                 {**LEARNED, "entropy.target": STD_SCHEDULE}, {}, 100_000,
                                 ("none",)),
    # recurrent (LSTM) on Pendulum, autograd path
    "recurrent-pendulum-std-0.3": ("Pendulum-v1", "ppo",
                                   {**LEARNED, "entropy.target": {"std": 0.3},
                                    "ppo.recurrent": "lstm"}, {}, 50_000, ("none",)),
    # SAC's default: learned temperature, constraint min (H >= target), auto target
    "sac-pendulum": ("Pendulum-v1", "sac", {"sac.log_interval": 500}, {}, 8_000,
                     ("none", "auto")),
}
WARMUP = 0.2  # the worst update is taken after this fraction of the updates


def run_one(job: tuple[str, str, int, dict[str, Any]]) -> dict[str, Any]:
    import torch

    import thermorl

    torch.set_num_threads(1)
    case, preset, seed, extra = job
    env, algo_name, settings, none_extra, budget, _ = CASES[case]
    over = {**settings, **(none_extra if preset == "none" else {}), **extra}
    cfg = thermorl.make_config(env, algo=algo_name, preset=preset, seed=seed,
                               total_timesteps=budget, **{
                                   **over, "eval.freq": 0, "eval.episodes": 10,
                                   "log.progress": "off", "log.tensorboard": False})
    t0 = time.perf_counter()
    algo = (thermorl.SAC if algo_name == "sac" else thermorl.PPO)(env, cfg).learn()
    wall = time.perf_counter() - t0
    hist = algo.logger.history
    out: dict[str, Any] = {"case": case, "preset": preset, "seed": seed, "extra": extra,
                           "eval": algo.final_eval["mean_return"], "wall_s": wall,
                           "updates": len(hist), "heads": {}}
    for h, c in algo.entropy.heads.items():
        if c.s.mode != "learned":
            continue
        rows = [r for r in hist if f"entropy/{h}" in r and r[f"entropy/{h}"] == r[f"entropy/{h}"]]
        err = [abs(r[f"entropy/{h}"] - r[f"target_entropy/{h}"]) / c.scale for r in rows]
        # `min` holds H >= target: entropy above it is no error
        below = [max(r[f"target_entropy/{h}"] - r[f"entropy/{h}"], 0.0) / c.scale for r in rows]
        half, warm = len(rows) // 2, int(len(rows) * WARMUP)
        out["heads"][h] = {
            "constraint": c.s.constraint, "scale": c.scale,
            "mean_err": statistics.fmean(err[half:]), "worst_err": max(err[warm:]),
            "mean_below": statistics.fmean(below[half:]), "worst_below": max(below[warm:]),
            "entropy_last": rows[-1][f"entropy/{h}"], "target_last": rows[-1][f"target_entropy/{h}"],
            "alpha_last": rows[-1][f"alpha/{h}"],
            "unreachable": max(r.get(f"warn/entropy_unreachable/{h}", 0.0) for r in rows)}
    return out


def _cell(rs: list[dict[str, Any]], head: str) -> str:
    hs = [r["heads"][head] for r in rs]
    key = "below" if hs[0]["constraint"] == "min" else "err"
    mean = ", ".join(f"{x[f'mean_{key}']:.3f}" for x in hs)
    worst = ", ".join(f"{x[f'worst_{key}']:.3f}" for x in hs)
    warn = sum(x["unreachable"] > 0 for x in hs)
    return f"{mean} | {worst} | {warn}"


def table(results: list[dict[str, Any]]) -> str:
    lines = ["| case | preset | head | mean error / scale (per seed) | worst after warm-up | "
             "alerts | eval return (per seed) | wall s |", "|---|---|---|---|---|---|---|---|"]
    for case in CASES:
        for preset in ("none", "auto"):
            rs = sorted((r for r in results if r["case"] == case and r["preset"] == preset),
                        key=lambda r: r["seed"])
            if not rs:
                continue
            ev = ", ".join(f"{r['eval']:.1f}" for r in rs)
            wall = statistics.fmean(r["wall_s"] for r in rs)
            for h in rs[0]["heads"]:
                lines.append(f"| {case} | {preset} | {h} | {_cell(rs, h)} | {ev} | {wall:.0f} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    ap.add_argument("--presets", nargs="+", default=["none", "auto"], choices=["none", "auto"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    ap.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                    help="a setting for every run (YAML value)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--json", help="write every run's results here")
    args = ap.parse_args()
    extra = {k: yaml.safe_load(v) for k, v in (s.split("=", 1) for s in args.set)}
    jobs = [(c, p, s, extra) for c in args.cases for p in args.presets if p in CASES[c][5]
            for s in args.seeds]
    # the longest cases first, so the pool's workers finish together
    jobs.sort(key=lambda j: -CASES[j[0]][4] * (20 if CASES[j[0]][1] == "sac" else 1))
    results = []
    with mp.get_context("spawn").Pool(args.jobs) as pool:
        for r in pool.imap_unordered(run_one, jobs, chunksize=1):
            results.append(r)
            heads = ", ".join(f"{h} {x['mean_err']:.3f}/{x['worst_err']:.3f}"
                              for h, x in r["heads"].items())
            print(f"[{len(results)}/{len(jobs)}] {r['case']} {r['preset']} seed {r['seed']}: "
                  f"eval {r['eval']:.1f}, {heads}, {r['wall_s']:.0f} s", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    print(table(results))


if __name__ == "__main__":
    main()
