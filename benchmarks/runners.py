"""Throughput of the runner backends: env samples per second of whole PPO training (collection
and updates) with each backend, at 1 and 2 runners, on a slow env and on a cheap one.

A runner holds `--envs-per-runner` envs (1 by default): `local` steps all of them one after
another in the training process, `async` gives each runner's envs to a worker process holding a
copy of the policy, `ray` to a Ray actor holding one (run the whole benchmark in a
loopback-only namespace: see benchmarks/README.md). The slow env is thermorl/SlowCartPole-v0,
whose step spends `--step-cost` seconds (default 0.001) computing, a stand-in for a simulator; CartPole-v1
is the cheap case, where the runners' overhead shows. Each run is a fresh process with one
torch thread; runs alternate between backends, and the table gives the median over `--repeats`
and each backend's ratio to the local run with as many runners. Throughput is counted from the
end of the first iteration to the end of the run, so start-up (worker processes, Ray) is left
out; `startup_s` in the JSON is the first iteration's time.

    python benchmarks/runners.py --repeats 3 --json benchmarks/runners_results.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from suite import run_child  # noqa: E402

BACKENDS = ("local", "async", "ray")
RUNNERS = (1, 2)
ENVS = {"slow": "thermorl/SlowCartPole-v0", "cheap": "CartPole-v1"}


def child(env: str, backend: str, runners: int, per_runner: int, steps: int,
          step_cost: float) -> dict[str, Any]:
    import torch

    import thermorl

    torch.set_num_threads(1)
    kwargs = {"step_cost": step_cost} if env == ENVS["slow"] else {}
    # CartPole's preset, whatever the env: a small batch per env and a short update, as for a
    # task whose cost is the env's
    cfg = thermorl.make_config(env, preset="CartPole-v1", total_timesteps=steps, env_kwargs=kwargs,
                               **{"ppo.num_envs": runners * per_runner, "ppo.num_steps": 256,
                                  "ppo.num_minibatches": 4, "ppo.update_epochs": 4,
                                  "runners.backend": backend, "eval.freq": 0,
                                  "eval.episodes": 1, "log.progress": "off",
                                  "log.tensorboard": False},
                                  **({"runners.num": runners} if backend != "local" else {}))
    algo = thermorl.PPO(env, cfg)
    marks: list[tuple[int, float]] = []

    class Mark(thermorl.Callback):
        def on_update_end(self, algo: Any, metrics: Any) -> None:
            marks.append((algo.global_step, time.perf_counter()))

    t = time.perf_counter()
    algo.learn(callbacks=[Mark()])
    wall = time.perf_counter() - t
    (s0, t0), (s1, t1) = marks[0], marks[-1]
    out = {"steps": algo.global_step, "wall_s": wall, "train_s": algo.elapsed,
           "startup_s": t0 - t, "samples_per_s": (s1 - s0) / (t1 - t0),
           "env_s": algo.collector.env_time, "update_s": algo.timing["update"]}
    algo.close()
    return out


def table(runs: list[dict[str, Any]]) -> str:
    out = ["| env | envs | backend | processes stepping envs | samples/s (median) | vs local "
           "| runs |", "|---|---:|---|---|---:|---:|---:|"]
    med: dict[tuple, list[float]] = {}
    for r in runs:
        key = (r["env"], r["runners"] * r.get("per_runner", 1), r["backend"], r["runners"])
        med.setdefault(key, []).append(r["samples_per_s"])
    for (env, n_envs, backend, n), v in med.items():
        m = statistics.median(v)
        base = med.get((env, n_envs, "local", n))
        ratio = f"{m / statistics.median(base):.2f}" if base else "-"
        where = {"local": "1 (the trainer)", "async": f"{n} processes x {n_envs // n} envs",
                 "ray": f"{n} runners x {n_envs // n} envs"}[backend]
        out.append(f"| {env} | {n_envs} | {backend} | {where} | {m:,.0f} | {ratio} | {len(v)} |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--steps", type=int, default=20_480, help="env steps per run")
    ap.add_argument("--step-cost", type=float, default=0.001, help="the slow env's seconds "
                    "of computing per step")
    ap.add_argument("--json", metavar="FILE", help="write every run to FILE")
    ap.add_argument("--runners", type=int, nargs="+", default=list(RUNNERS),
                    help="runner counts to measure (default: 1 2)")
    ap.add_argument("--envs-per-runner", type=int, default=1, help="envs each runner steps "
                    "(a run has runners x this many envs)")
    ap.add_argument("--child", nargs=4, metavar=("ENV", "BACKEND", "RUNNERS", "PER_RUNNER"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        env, backend, n, per = args.child
        print(json.dumps(child(env, backend, int(n), int(per), args.steps, args.step_cost)),
              flush=True)
        return
    runs = []
    for rep in range(args.repeats):
        for name, env in ENVS.items():
            for n in args.runners:
                for backend in BACKENDS:  # alternating, so a change in load falls on both
                    res = run_child(os.path.abspath(__file__),
                                    ["--child", env, backend, str(n),
                                     str(args.envs_per_runner), "--steps", str(args.steps),
                                     "--step-cost", str(args.step_cost)])
                    if "error" in res:
                        print(res["stderr_tail"], file=sys.stderr)
                        continue
                    runs.append({"env": name, "backend": backend, "runners": n,
                                 "per_runner": args.envs_per_runner,
                                 "repeat": rep, **res})
                    print(f"{name} {backend} x{n}x{args.envs_per_runner}: "
                          f"{res['samples_per_s']:,.0f} samples/s",
                          file=sys.stderr, flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"step_cost": args.step_cost, "steps": args.steps,
                       "envs_per_runner": args.envs_per_runner, "runs": runs}, f,
                      indent=1)
    print(table(runs))


if __name__ == "__main__":
    main()
