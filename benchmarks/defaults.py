"""Candidate defaults for runs without a preset, measured over many tasks: the table that
`thermorl train ENV` chooses its per-space defaults from (docs/defaults.md).

    python benchmarks/defaults.py --json benchmarks/defaults_results.json           # all
    python benchmarks/defaults.py --group continuous --seeds 1 --total 20000 --workers 2
    python benchmarks/defaults.py --table --json benchmarks/defaults_results.json   # tables only

Each (task, candidate, seed) runs in a fresh child process (`suite.py`'s runner: one torch
thread, `learn()` timed alone, then 10 deterministic evaluation episodes on a fresh env).
`--workers` children run at once; runs already in the `--json` file are kept and skipped, so an
interrupted table resumes where it stopped. The table gives, per task, every candidate's mean
(and range over seeds) of the evaluation return and of the wall time, then each candidate's
mean normalized score: per task and seed, (return - worst) / (best - worst) over the
candidates, so every task weighs the same whatever its return scale.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import _time_thermorl  # noqa: E402
from suite import run_child, spread  # noqa: E402

# Each candidate is dotted overrides on top of `preset: none` (the dataclass defaults).
ONE_ROLLOUT = {"ppo.num_steps": 2048, "ppo.num_minibatches": 32, "ppo.update_epochs": 10}
NORMALIZED = {"ppo.anneal_lr": True, "ppo.norm_obs": True, "ppo.norm_reward": True}
CANDIDATES: dict[str, dict[str, Any]] = {
    # the dataclass defaults: CleanRL's classic-control set (8 envs x 128 steps, 4 minibatches,
    # 4 epochs, lr 3e-4), 64x64 tanh, pink-ish noise (beta 0.5)
    "classic": {},
    # CleanRL's continuous-control set (ppo_continuous_action.py, the "37 implementation
    # details" MuJoCo set): 1 env x 2048 steps, 32 minibatches, 10 epochs, lr 3e-4 annealed,
    # observations and rewards normalized
    "mujoco": {"ppo.num_envs": 1, **ONE_ROLLOUT, **NORMALIZED},
    # the same rollout size and update from 4 envs x 512 steps (4x fewer policy calls)
    "mujoco4": {"ppo.num_envs": 4, **ONE_ROLLOUT, "ppo.num_steps": 512, **NORMALIZED},
    "mujoco4-white": {"ppo.num_envs": 4, **ONE_ROLLOUT, "ppo.num_steps": 512, **NORMALIZED,
                      "entropy.noise": {"beta": 0.0}},
    # the classic set with the continuous set's normalization and annealing
    "classic-norm": {**NORMALIZED},
}
MASKED = "thermorl/MaskObservation-v0"
# A task is an env id, or a label for an env id with kwargs.
TASKS: dict[str, tuple[str, dict[str, Any]]] = {
    "Pendulum-v1/no-velocity": (MASKED, {"env": "Pendulum-v1", "hide": [2]}),
    "CartPole-v1/no-velocity": (MASKED, {"env": "CartPole-v1", "hide": [1, 3]}),
    "Memory-v0/delay16": ("thermorl/Memory-v0", {"delay": 16}),
    "LunarLanderContinuous-v3": ("LunarLander-v3", {"continuous": True}),  # box2d (bench extra)
}
# "space": what the first version of this table chose by action space, the `mujoco4` set where
# every action head is continuous and `classic` elsewhere (the recurrent rows were measured on
# that, before the discrete rows showed `mujoco4` winning there too; `lstm-mujoco4` is the
# recurrent default on the `general` preset that followed)
RECURRENT = {"preset": "space", "ppo.recurrent": "lstm"}
CANDIDATES.update({
    # recurrent runs on top of the per-space defaults
    "lstm-seq16-tanh": {**RECURRENT},
    "lstm-seq32-tanh": {**RECURRENT, "ppo.seq_len": 32},
    "lstm-seq32-relu": {**RECURRENT, "ppo.seq_len": 32, "policy.activation": "relu"},
    # the recurrent default (seq_len 16, tanh) on the `mujoco4` set whatever the space
    "lstm-mujoco4": {**CANDIDATES["mujoco4"], "ppo.recurrent": "lstm"},
    # SAC's defaults (Stable-Baselines3's), white or pink (beta 1) exploration noise
    "sac-white": {"algo": "sac"},
    "sac-pink": {"algo": "sac", "entropy.noise": {"beta": 1.0}},
})
GROUPS: dict[str, dict[str, Any]] = {
    "continuous": {
        "tasks": ["Pendulum-v1", "MountainCarContinuous-v0", "InvertedDoublePendulum-v5",
                  "Reacher-v5", "Swimmer-v5", "HalfCheetah-v5", "Hopper-v5", "Walker2d-v5",
                  "LunarLanderContinuous-v3"],
        "candidates": ["classic", "mujoco", "mujoco4", "mujoco4-white"], "total": 200_000,
    },
    "discrete": {
        "tasks": ["CartPole-v1", "Acrobot-v1", "MountainCar-v0", "LunarLander-v3"],
        "candidates": ["classic", "classic-norm", "mujoco4"], "total": 200_000,
    },
    "recurrent": {
        "tasks": ["Pendulum-v1/no-velocity", "CartPole-v1/no-velocity", "Memory-v0/delay16"],
        "candidates": ["lstm-seq16-tanh", "lstm-seq32-tanh", "lstm-seq32-relu"],
        "total": 200_000,
    },
    # the recurrent default on the `general` preset, where "space" gave the discrete tasks
    # `classic` (on the continuous task the two are the same runs)
    "recurrent-general": {
        "tasks": ["CartPole-v1/no-velocity", "Memory-v0/delay16"],
        "candidates": ["lstm-mujoco4"], "total": 200_000,
    },
    "sac": {
        "tasks": ["Pendulum-v1", "MountainCarContinuous-v0", "HalfCheetah-v5", "Hopper-v5"],
        "candidates": ["sac-white", "sac-pink"], "total": 30_000,
    },
}


def config_for(task: str, candidate: str, seed: int, total: int) -> Any:
    """The resolved thermorl config one run of the table trains with."""
    import thermorl

    env_id, env_kwargs = TASKS.get(task, (task, {}))
    overrides = {"preset": "none", **CANDIDATES[candidate]}
    if overrides["preset"] == "space":
        import gymnasium as gym

        env = gym.make(env_id, **env_kwargs)
        heads = thermorl.envs.head_specs(env.action_space).values()
        continuous = all(not h.discrete for h in heads)
        env.close()
        overrides = {**overrides, "preset": "none",
                     **(CANDIDATES["mujoco4"] if continuous else CANDIDATES["classic"])}
    return thermorl.make_config(
        env_id, seed=seed, device="cpu", torch_threads=1, total_timesteps=total,
        env_kwargs=env_kwargs, **{"eval.freq": 0, "eval.episodes": 10,
                                  "eval.deterministic": True, "log.tensorboard": False,
                                  "log.progress": "off"}, **overrides)


def child(task: str, candidate: str, seed: int, total: int) -> dict[str, Any]:
    import torch

    torch.set_num_threads(1)
    import thermorl

    cfg = config_for(task, candidate, seed, total)
    cls = thermorl.SAC if cfg.algo == "sac" else thermorl.PPO
    out = _time_thermorl(cls, cfg, {"env_id": cfg.env_id}, seed, "auto")
    return {**out, "preset": cfg.preset}


def spawn(task: str, candidate: str, seed: int, total: int) -> dict[str, Any]:
    out = run_child(os.path.abspath(__file__), ["--child", task, candidate, str(seed), str(total)])
    return {"task": task, "candidate": candidate, "seed": seed, "total": total, **out}


def table(runs: list[dict[str, Any]]) -> str:
    ok = [r for r in runs if "error" not in r]
    tasks = list(dict.fromkeys(r["task"] for r in ok))
    cands = list(dict.fromkeys(r["candidate"] for r in ok))
    out = ["| task | candidate | steps | eval return: mean (range) | wall s: mean (range) "
           "| seeds |", "|---|---|---:|---|---|---|"]
    for task in tasks:
        for cand in cands:
            mine = [r for r in ok if (r["task"], r["candidate"]) == (task, cand)]
            if mine:
                out.append(f"| {task} | {cand} | {mine[0]['steps']:,} | "
                           f"{spread([r['eval_mean'] for r in mine], 1)} | "
                           f"{spread([r['wall_s'] for r in mine], 0)} | "
                           + ", ".join(str(r["seed"]) for r in mine) + " |")
    scores: dict[str, list[float]] = {c: [] for c in cands}
    for task in tasks:
        for seed in sorted({r["seed"] for r in ok if r["task"] == task}):
            got = {r["candidate"]: r["eval_mean"] for r in ok
                   if (r["task"], r["seed"]) == (task, seed)}
            if set(got) != set(cands):
                continue  # only (task, seed) pairs every candidate has finished
            lo, hi = min(got.values()), max(got.values())
            for cand, value in got.items():
                scores[cand].append((value - lo) / (hi - lo) if hi > lo else 1.0)
    out += ["", "| candidate | mean normalized score | (task, seed) pairs |", "|---|---:|---:|"]
    for cand, vals in scores.items():
        out.append(f"| {cand} | {statistics.mean(vals):.2f} | {len(vals)} |" if vals
                   else f"| {cand} | - | 0 |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--group", default="all", choices=[*GROUPS, "all"])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--total", type=int, help="env steps per run (default: the group's)")
    ap.add_argument("--workers", type=int, default=2, help="children run at once")
    ap.add_argument("--json", metavar="FILE", help="keep every run in FILE (and resume from it)")
    ap.add_argument("--table", action="store_true",
                    help="only print the tables of the runs already in --json")
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        task, cand, seed, total = args.child
        print(json.dumps(child(task, cand, int(seed), int(total))), flush=True)
        return
    runs: list[dict[str, Any]] = []
    if args.json and os.path.exists(args.json):
        with open(args.json) as f:
            runs = [r for r in json.load(f)["runs"] if "error" not in r]
    done = {(r["task"], r["candidate"], r["seed"], r["total"]) for r in runs}
    groups = list(GROUPS) if args.group == "all" else [args.group]
    todo = [(t, c, s, args.total or GROUPS[g]["total"]) for s in args.seeds for g in groups
            for t in GROUPS[g]["tasks"] for c in GROUPS[g]["candidates"]]
    todo = [job for job in todo if job not in done and not args.table]

    def run(job: tuple[str, str, int, int]) -> None:
        res = spawn(*job)
        print(f"{job[0]} {job[1]} seed {job[2]}: "
              + (res["error"] + "\n" + res["stderr_tail"] if "error" in res
                 else f"{res['eval_mean']:.1f} in {res['wall_s']:.0f} s"),
              file=sys.stderr, flush=True)
        with lock:
            runs.append(res)
            if args.json:
                tmp = args.json + ".tmp"
                with open(tmp, "w") as f:
                    json.dump({"runs": runs}, f, indent=1)
                os.replace(tmp, args.json)

    lock = threading.Lock()
    with ThreadPoolExecutor(args.workers) as pool:
        list(pool.map(run, todo))
    wanted = {(t, c) for g in groups for t in GROUPS[g]["tasks"] for c in GROUPS[g]["candidates"]}
    for g in groups:  # one table per group: its scores compare its own candidates
        print(f"\n### {g}\n")
        print(table([r for r in runs if (r["task"], r["candidate"]) in wanted
                     and r["task"] in GROUPS[g]["tasks"]
                     and r["candidate"] in GROUPS[g]["candidates"]]))


if __name__ == "__main__":
    main()
